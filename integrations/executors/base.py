"""The shape every executor has: read fresh state into a typed value, then turn it
(and one round of lookups) into a Plan, or finish early with the rule that decided."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.db import models

from integrations.enums import Purpose
from integrations.models import IntegrationSettings, SalesforceConnection, SyncJob, SyncMapping
from integrations.salesforce.matching import Directory
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

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.job.params or {})

    def mappings(
        self, model: type[models.Model], ids: list[int]
    ) -> dict[tuple[int, Purpose], SyncMapping]:
        return mappings_of(self.tenant, model, ids)

    def new_plan(self) -> Plan:
        return Plan(job_id=self.job.pk)


@dataclass
class Reading:
    """What an executor read; the addresses it needs looked up in Salesforce."""

    people: set[str] = field(default_factory=set)  # Contacts and Leads by email
    users: set[str] = field(default_factory=set)  # active Users by email


R = TypeVar("R", bound=Reading)


class Executor(ABC, Generic[R]):
    @abstractmethod
    def read(self, ctx: JobContext) -> R | Finish: ...

    @abstractmethod
    def plan(self, ctx: JobContext, reading: R, directory: Directory) -> Plan | Finish: ...


def skipped(reason: str) -> Finish:
    return Finish(State.SKIPPED, reason)


def needs_review(reason: str, candidates: list[dict[str, Any]]) -> Finish:
    return Finish(State.NEEDS_REVIEW, reason, candidates)
