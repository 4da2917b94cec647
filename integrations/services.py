"""Sync services: the outbox of sync jobs and their dispatch to the task queue."""

from __future__ import annotations

import logging
import re
from typing import Any

import requests
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, InvalidInput, Unavailable
from integrations.enums import Operation
from integrations.models import (
    IntegrationSettings,
    MatchChoice,
    SalesforceConnection,
    SyncJob,
)
from integrations.outbox.dispatch import job_dispatch
from integrations.outbox.enqueue import highlight_change_enqueue as highlight_change_enqueue
from integrations.outbox.enqueue import sync_job_enqueue as sync_job_enqueue
from integrations.outbox.sweeper import sync_jobs_sweep as sync_jobs_sweep
from integrations.outbox.sweeper import tenant_jobs_reconnected, tenant_pause_lift
from integrations.salesforce.client import salesforce_userinfo
from integrations.salesforce.errors import SalesforceError
from integrations.salesforce.lookups import directory_fetch
from integrations.salesforce.matching import external_emails, manual_match
from integrations.salesforce.oauth import oauth_code_exchange, oauth_token_revoke
from integrations.sync.connection import connection_client, connection_needs_reauth
from integrations.sync.runner import sync_jobs_run
from meetings.models import Activity, Highlight, Meeting
from tenants.models import Tenant

logger = logging.getLogger(__name__)


def sync_job_dispatch(*, job_id: int) -> None:
    """Hand a job id to the task queue (called after commit, never inside a transaction)."""
    job_dispatch(job_id)


def sync_job_run(*, job_id: int) -> None:
    """Run one job (and due companions of its tenant, see `integrations.sync`)."""
    sync_jobs_run(job_id=job_id)


def integration_settings_get_or_create(*, tenant: Tenant) -> IntegrationSettings:
    settings_row, _ = IntegrationSettings.objects.get_or_create(tenant=tenant)
    return settings_row


def salesforce_connection_get_or_create(*, tenant: Tenant) -> SalesforceConnection:
    connection, _ = SalesforceConnection.objects.get_or_create(tenant=tenant)
    return connection


def salesforce_connection_connect(
    *,
    tenant: Tenant,
    instance_url: str,
    access_token: str,
    refresh_token: str = "",
    installed_by: AbstractBaseUser | None = None,
) -> SalesforceConnection:
    """Store a tenant's tokens after asking Salesforce whose they are: the org id and
    the installing user's Salesforce User Id come from the userinfo endpoint."""
    identity = salesforce_userinfo(instance_url=instance_url, access_token=access_token)
    connection = salesforce_connection_get_or_create(tenant=tenant)
    connection.instance_url = instance_url.rstrip("/")
    connection.access_token = access_token
    if refresh_token:
        connection.refresh_token = refresh_token
    connection.org_id = identity["organization_id"]
    connection.installer_salesforce_user_id = identity["user_id"]
    connection.installed_by = installed_by
    connection.status = SalesforceConnection.Status.CONNECTED
    connection.status_reason = ""
    connection.connected_at = timezone.now()
    connection.paused_until = None
    connection.save()
    logger.info("tenant %s connected to Salesforce org %s", tenant.slug, connection.org_id)
    resumed = tenant_jobs_reconnected(tenant=tenant)
    if resumed:
        logger.info("tenant %s: %s waiting sync jobs resume", tenant.slug, resumed)
    return connection


def salesforce_oauth_complete(
    *,
    tenant: Tenant,
    code: str,
    code_verifier: str,
    redirect_uri: str,
    installed_by: AbstractBaseUser,
) -> SalesforceConnection:
    """Finish the OAuth web-server flow: trade the code for tokens, then store them."""
    tokens = oauth_code_exchange(code=code, code_verifier=code_verifier, redirect_uri=redirect_uri)
    return salesforce_connection_connect(
        tenant=tenant,
        instance_url=tokens.instance_url,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        installed_by=installed_by,
    )


def salesforce_disconnect(*, tenant: Tenant) -> SalesforceConnection:
    """Revoke the tokens at Salesforce (best effort) and forget them here."""
    connection = salesforce_connection_get_or_create(tenant=tenant)
    token = connection.refresh_token or connection.access_token
    if token and connection.instance_url:
        try:
            oauth_token_revoke(instance_url=connection.instance_url, token=token)
        except requests.RequestException as exc:
            # The tokens are dropped here anyway; Salesforce expires them on its own.
            logger.warning(
                "tenant %s: token revocation failed: %s", tenant.slug, type(exc).__name__
            )
    connection.access_token = ""
    connection.refresh_token = ""
    connection.status = SalesforceConnection.Status.DISCONNECTED
    connection.status_reason = "Disconnected by a tenant admin."
    connection.save()
    logger.info("tenant %s disconnected from Salesforce", tenant.slug)
    return connection


SALESFORCE_MATCH_OBJECTS = ("Account", "Opportunity", "Lead", "Contact")


def integration_settings_update(*, tenant: Tenant, **values: Any) -> IntegrationSettings:
    """Change a tenant's integration settings; the match order must name each of
    Account, Opportunity, Lead and Contact exactly once."""
    order = values.get("auto_sync_match_order")
    if order is not None and sorted(order) != sorted(SALESFORCE_MATCH_OBJECTS):
        raise InvalidInput(
            "The match order must list Account, Opportunity, Lead and Contact, each once.",
            field="auto_sync_match_order",
        )
    row = integration_settings_get_or_create(tenant=tenant)
    for key, value in values.items():
        if not hasattr(row, key) or key in {"id", "tenant", "tenant_id", "updated_at"}:
            raise InvalidInput(f"'{key}' is not an integration setting.", field=key)
        setattr(row, key, value)
    row.save()
    return row


# --- what members and partners ask of the sync ------------------------------------------------


def _connected(tenant: Tenant) -> SalesforceConnection:
    connection = SalesforceConnection.objects.filter(tenant=tenant).first()
    if connection is None or connection.status != SalesforceConnection.Status.CONNECTED:
        raise Conflict(
            "Salesforce is not connected for this tenant; an admin connects it on the "
            "settings page."
        )
    return connection


def _highlights_pick(meeting: Meeting, highlight_ids: list[str]) -> list[Highlight]:
    if not highlight_ids:
        raise InvalidInput("Choose at least one highlight.", field="highlights")
    found = list(
        Highlight.objects.filter(meeting=meeting, external_id__in=highlight_ids, is_deleted=False)
    )
    missing = sorted(set(highlight_ids) - {h.external_id for h in found})
    if missing:
        raise InvalidInput(
            f"No such highlight in this meeting: {', '.join(missing)}.", field="highlights"
        )
    return found


def match_preview(*, meeting: Meeting, highlight_ids: list[str]) -> dict[str, Any]:
    """Which of the four manual-sync situations applies (SPEC 3.1), with the record on
    offer and the candidates. Reads Salesforce (one lookup round), writes nothing."""
    _highlights_pick(meeting, highlight_ids)
    connection = _connected(meeting.tenant)
    emails = external_emails(
        meeting.attendees.values_list("email", flat=True), meeting.tenant.internal_domains
    )
    client = connection_client(connection)
    try:
        directory = directory_fetch(client, people_emails=emails)
    except SalesforceError as error:
        if error.kind == "reauth":
            connection_needs_reauth(connection, error.message)
        raise Unavailable(f"Salesforce could not be asked: {error}") from error
    found = manual_match(directory, emails)
    return {
        "situation": found.situation.value,
        "situation_label": found.situation.label,
        "offers_creation": found.situation.offers_creation,
        "what_to_do": found.situation.what_to_do,
        "offer": found.offer.as_dict() if found.offer else None,
        "candidates": [c.as_dict() for c in found.candidates],
        "matched_contacts": [
            {"id": c.id, "name": c.name, "email": c.email} for c in found.contacts
        ],
        "unmatched_emails": found.unmatched_emails,
        "api_calls": client.api_calls,
    }


SALESFORCE_ID = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")


def _record_choice(choice: dict[str, Any], *, allowed: tuple[str, ...], field: str) -> dict:
    obj = str(choice.get("object", ""))
    record_id = str(choice.get("id", ""))
    if obj not in allowed:
        raise InvalidInput(f"'object' must be one of {', '.join(allowed)}.", field=field)
    if not SALESFORCE_ID.match(record_id):
        raise InvalidInput("'id' must be a 15 or 18 character Salesforce Id.", field=field)
    return {
        "object": obj,
        "id": salesforce_id_18(record_id),
        "name": str(choice.get("name", ""))[:255],
    }


def salesforce_id_18(record_id: str) -> str:
    """The 18-character form of an Id (what the API answers), from the 15-character one
    people copy from Salesforce's pages: three checksum letters encode the case of each
    five-character block."""
    if len(record_id) != 15:
        return record_id
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    suffix = ""
    for block in range(3):
        bits = sum(
            1 << i for i, ch in enumerate(record_id[block * 5 : block * 5 + 5]) if ch.isupper()
        )
        suffix += alphabet[bits]
    return record_id + suffix


def highlights_send(
    *,
    meeting: Meeting,
    highlight_ids: list[str],
    target: dict[str, Any] | None = None,
    create: dict[str, Any] | None = None,
    requested_by: AbstractBaseUser | None = None,
) -> SyncJob:
    """Send chosen highlights, each as one Note, to a chosen Account or Opportunity, or
    to one created for them (situations 2 and 4)."""
    _highlights_pick(meeting, highlight_ids)
    if bool(target) == bool(create):
        raise InvalidInput("Give either a target record or a create request, not both.")
    params: dict[str, Any] = {"highlights": sorted(set(highlight_ids))}
    if target:
        params["target"] = _record_choice(
            target, allowed=("Account", "Opportunity"), field="target"
        )
    else:
        assert create is not None
        name = str(create.get("account_name", "")).strip()
        if not name:
            raise InvalidInput("An Account needs a name.", field="create.account_name")
        params["create"] = {
            "account_name": name[:255],
            "opportunity_name": str(create.get("opportunity_name", "")).strip()[:120],
        }
        if create.get("close_date"):
            params["create"]["close_date"] = str(create["close_date"])
    with transaction.atomic():
        job = sync_job_enqueue(
            tenant=meeting.tenant,
            operation=Operation.HIGHLIGHTS_SEND,
            local_object=meeting,
            params=params,
        )
        SyncJob.objects.filter(pk=job.pk).update(requested_by=requested_by)
    return job


def activity_log(
    *,
    activity: Activity,
    choices: dict[str, Any] | None = None,
    requested_by: AbstractBaseUser | None = None,
) -> SyncJob:
    """Log an activity now. `choices` maps a participant's email to the record it is
    ({"object": "Contact", "id": ...}) or to {"object": "create_lead", "company": ...};
    each choice is remembered for that address."""
    participants = list(activity.participants.all())
    emails = {p.email for p in participants if p.email}
    if not any(not p.email or not activity.tenant.is_internal_email(p.email) for p in participants):
        raise InvalidInput(
            "Only internal users took part in this activity; internal activities are not "
            "logged to Salesforce, so nothing was sent.",
            field="participants",
        )
    params: dict[str, Any] = {"requested": True, "choices": {}}
    for email, choice in (choices or {}).items():
        email = email.strip().lower()
        if email not in emails:
            raise InvalidInput(f"{email} did not take part in this activity.", field="choices")
        if isinstance(choice, dict) and choice.get("object") == "create_lead":
            params["choices"][email] = {
                "object": "create_lead",
                "company": str(choice.get("company", ""))[:255],
            }
        else:
            params["choices"][email] = _record_choice(
                choice or {}, allowed=("Contact", "Lead"), field="choices"
            )
    with transaction.atomic():
        for email, choice in params["choices"].items():
            if choice["object"] != "create_lead":
                _match_choice_remember(activity.tenant, email, choice, requested_by)
        job = sync_job_enqueue(
            tenant=activity.tenant,
            operation=Operation.ACTIVITY_SYNC,
            local_object=activity,
            params=params,
        )
    return job


def _match_choice_remember(
    tenant: Tenant, email: str, choice: dict[str, Any], user: AbstractBaseUser | None
) -> None:
    MatchChoice.objects.update_or_create(
        tenant=tenant,
        email=email,
        defaults={
            "salesforce_object": choice["object"],
            "salesforce_id": choice["id"],
            "chosen_by": user,
        },
    )


def lead_create(*, activity: Activity, email: str, company: str = "") -> SyncJob:
    """Create a Salesforce Lead from one of the activity's participants."""
    email = email.strip().lower()
    participant = activity.participants.filter(email=email).first()
    if participant is None:
        raise InvalidInput(f"{email} did not take part in this activity.", field="email")
    if activity.tenant.is_internal_email(email):
        raise InvalidInput(f"{email} is an internal user, not a prospect.", field="email")
    with transaction.atomic():
        return sync_job_enqueue(
            tenant=activity.tenant,
            operation=Operation.LEAD_CREATE,
            local_object=participant,
            params={"company": company.strip()[:255]},
        )


def sync_job_resolve(
    *,
    job: SyncJob,
    choice: dict[str, Any] | None = None,
    choices: dict[str, Any] | None = None,
    resolved_by: AbstractBaseUser | None = None,
) -> SyncJob:
    """A person answers a job waiting for review: the record auto-sync or a booking links
    to (`choice`), or for an activity which record each address is (`choices`). The job
    then runs again with the answer."""
    with transaction.atomic():
        job = SyncJob.objects.select_for_update().get(pk=job.pk)
        if job.state != SyncJob.State.NEEDS_REVIEW:
            raise Conflict(
                f"This job is {job.get_state_display().lower()}, not waiting for a review."
            )
        params = dict(job.params)
        if job.operation == Operation.ACTIVITY_SYNC:
            if not choices:
                raise InvalidInput("Say which record each address is.", field="choices")
            picked = {}
            for email, value in choices.items():
                email = email.strip().lower()
                if isinstance(value, dict) and value.get("object") == "create_lead":
                    picked[email] = {
                        "object": "create_lead",
                        "company": str(value.get("company", ""))[:255],
                    }
                    continue
                picked[email] = _record_choice(
                    value or {}, allowed=("Contact", "Lead"), field="choices"
                )
                _match_choice_remember(job.tenant, email, picked[email], resolved_by)
            params["choices"] = {**params.get("choices", {}), **picked}
            params["requested"] = True
        else:
            if not choice:
                raise InvalidInput("Choose the record to link to.", field="choice")
            allowed = (
                ("Contact", "Lead")
                if job.operation == Operation.BOOKING_SYNC
                else ("Account", "Opportunity", "Lead", "Contact")
            )
            params["target"] = _record_choice(choice, allowed=allowed, field="choice")
            known = {c.get("id") for c in job.candidates}
            if params["target"]["id"] not in known and not params["target"]["name"]:
                # A record found by search rather than offered: keep what the person
                # said so the log shows it.
                params["target"]["name"] = params["target"]["id"]
            for candidate in job.candidates:
                if candidate.get("id") == params["target"]["id"]:
                    params["target"]["name"] = candidate.get("name", "")
        job.params = params
        job.state = SyncJob.State.PENDING
        job.reason = "Resolved by a person; syncing with their choice."
        job.waiting_for = SyncJob.Wait.NOTHING
        job.next_attempt_at = None
        job.attempt_count = 0
        job.save(
            update_fields=[
                "params",
                "state",
                "reason",
                "next_attempt_at",
                "attempt_count",
                "waiting_for",
                "updated_at",
            ]
        )
        logger.info("sync job %s resolved with %s", job.pk, params.get("target") or choices)
        transaction.on_commit(lambda: sync_job_dispatch(job_id=job.pk))
    return job


def sync_job_retry(*, job: SyncJob) -> SyncJob:
    """Run a failed job again (after the cause was fixed in Salesforce)."""
    with transaction.atomic():
        job = SyncJob.objects.select_for_update().get(pk=job.pk)
        if job.state != SyncJob.State.FAILED:
            raise Conflict(
                f"Only failed jobs are retried by hand; this one is "
                f"{job.get_state_display().lower()}."
            )
        job.state = SyncJob.State.PENDING
        job.reason = "Retried by hand."
        job.waiting_for = SyncJob.Wait.NOTHING
        job.attempt_count = 0
        job.next_attempt_at = None
        job.finished_at = None
        job.save(
            update_fields=[
                "state",
                "reason",
                "attempt_count",
                "next_attempt_at",
                "finished_at",
                "waiting_for",
                "updated_at",
            ]
        )
        transaction.on_commit(lambda: sync_job_dispatch(job_id=job.pk))
    return job


def sync_tenant_resume(*, tenant: Tenant) -> int:
    """Lift an API-limit pause: the jobs that waited for it run now; jobs backing off
    after errors keep their backoff."""
    with transaction.atomic():
        return tenant_pause_lift(tenant=tenant)


def sync_jobs_run_now(*, jobs: list[SyncJob]) -> int:
    """Pending jobs skip the rest of their backoff and go to the workers."""
    ids = [j.pk for j in jobs if j.state == SyncJob.State.PENDING]
    with transaction.atomic():
        SyncJob.objects.filter(pk__in=ids, state=SyncJob.State.PENDING).update(
            next_attempt_at=None, waiting_for=SyncJob.Wait.NOTHING, dispatched_at=None
        )
        for job_id in ids:
            transaction.on_commit(lambda job_id=job_id: sync_job_dispatch(job_id=job_id))
    return len(ids)
