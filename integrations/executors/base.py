"""The shape every executor has: read fresh state into a typed value, then turn it
(and one round of lookups) into a Plan, or finish early with the rule that decided."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from django.db import models
from django.urls import reverse

from integrations.enums import Purpose, SObject
from integrations.models import IntegrationSettings, SalesforceConnection, SyncJob, SyncMapping
from integrations.salesforce.matching import Conversion, Directory
from integrations.salesforce.writer import Ref
from integrations.sync.mappings import mappings_of
from integrations.sync.plan import Finish, Plan
from tenants.models import Tenant

State = SyncJob.State


@dataclass
class JobContext:
    """One job inside a batch, with what it runs against."""

    job: SyncJob
    tenant: Tenant
    settings: IntegrationSettings
    connection: SalesforceConnection
    # What the batch read for this job in one go (see `Executor.preload`): its object,
    # and its rows by model. Emptied when the job plans again, which reads afresh.
    preloaded: dict[Any, Any] = field(default_factory=dict)
    # The portal pages this job's writes link to, made once each (see `page_url`).
    _page_urls: dict[tuple[str, ...], str] = field(default_factory=dict, repr=False)
    # Leads this job knew that were converted, followed in this run (see
    # `sync.conversions`): what it writes next names the records they became.
    followed: list[Conversion] = field(default_factory=list)

    def conversion_into(self, contact_id: str | Ref) -> Conversion | None:
        """The conversion this run followed that became (or merged into) this Contact."""
        return next((c for c in self.followed if c.contact_id == contact_id), None)

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.job.params or {})

    def mappings(
        self, model: type[models.Model], ids: list[int]
    ) -> dict[tuple[int, Purpose], SyncMapping]:
        known = self.preloaded.get(("mappings", model))
        if known is not None and set(ids) <= known[0]:
            return {key: row for key, row in known[1].items() if key[0] in ids}
        return mappings_of(self.tenant, model, ids)

    def preload_mappings(
        self, model: type[models.Model], ids: set[int], rows: dict[tuple[int, Purpose], SyncMapping]
    ) -> None:
        """The rows of `model`'s objects `ids` as the batch read them (any missing: none)."""
        mine = {key: row for key, row in rows.items() if key[0] in ids}
        self.preloaded[("mappings", model)] = (ids, mine)

    def new_plan(self) -> Plan:
        return Plan(job_id=self.job.pk)

    def page_url(self, view: str, external_id: str = "", *, search: str = "") -> str:
        """The absolute address of one of the tenant's portal pages (where text cut to
        fit Salesforce can be read whole), on the tenant's link-back base URL; empty
        when the tenant has not set one."""
        base = self.settings.link_back_base_url
        if not base:
            return ""
        key = (base, view, external_id, search)
        if key not in self._page_urls:
            # A job's Note and Event both link to its object's page: `reverse` once.
            path = reverse(view, kwargs={"external_id": external_id} if external_id else None)
            query = f"?{urlencode({'q': search})}" if search else ""
            self._page_urls[key] = f"{base.rstrip('/')}{path}{query}"
        return self._page_urls[key]


@dataclass
class Reading:
    """What an executor read; the addresses it needs looked up in Salesforce."""

    people: set[str] = field(default_factory=set)  # Contacts and Leads by email
    users: set[str] = field(default_factory=set)  # active Users by email
    domains: set[str] = field(default_factory=set)  # Accounts by Website domain
    phones: set[str] = field(default_factory=set)  # Contacts and Leads by E.164 number
    # Leads the job would write to or link to (its records point at them, or a choice
    # names them): each is checked for a conversion before anything is written.
    leads: set[str] = field(default_factory=set)


def lead_parents(*rows: Iterable[SyncMapping]) -> set[str]:
    """The Leads these rows' records are linked to (a Note's, Event's or Task's)."""
    return {
        row.parent_id for group in rows for row in group if row.parent_object == SObject.LEAD
    } - {""}


def choice_followed(chosen: dict[str, Any] | None, directory: Directory) -> dict[str, Any] | None:
    """A choice (job params, or a remembered one) of a Lead converted since, as a choice
    of the Contact it became (`directory` read the conversions); any other as it is."""
    moved = directory.conversion_of(str(chosen["id"])) if chosen and lead_chosen(chosen) else None
    if chosen is None or moved is None:
        return chosen
    return {
        **chosen,
        "object": SObject.CONTACT.value,
        "id": moved.contact_id,
        "name": moved.contact_name or chosen.get("name", ""),
    }


def lead_chosen(chosen: dict[str, Any] | None) -> set[str]:
    """The Lead a person's choice names (job params), if it names one."""
    if chosen and chosen.get("object") == SObject.LEAD and chosen.get("id"):
        return {str(chosen["id"])}
    return set()


R = TypeVar("R", bound=Reading)


class Executor(ABC, Generic[R]):
    def preload(self, contexts: Sequence[JobContext]) -> None:
        """Read what the batch's jobs of this kind need in a few queries for all of
        them, into each context's `preloaded`, just before each job's `read`. Optional:
        `read` falls back to its own queries for anything not preloaded."""

    @abstractmethod
    def read(self, ctx: JobContext) -> R | Finish: ...

    @abstractmethod
    def plan(self, ctx: JobContext, reading: R, directory: Directory) -> Plan | Finish: ...


def skipped(reason: str) -> Finish:
    return Finish(State.SKIPPED, reason)


def needs_review(reason: str, candidates: list[dict[str, Any]]) -> Finish:
    return Finish(State.NEEDS_REVIEW, reason, candidates)
