"""Everything about syncing to Salesforce: the tenant's connection and settings, the
mapping from local objects to Salesforce records, and the outbox of sync jobs with
every attempt made."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from integrations.enums import DEFAULT_MATCH_ORDER, Operation, Purpose
from tenants.fields import EncryptedTextField
from tenants.models import Tenant


def default_match_order() -> list[str]:
    return [str(level) for level in DEFAULT_MATCH_ORDER]


class SalesforceConnection(models.Model):
    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        NEEDS_REAUTH = "needs_reauth", "Needs re-authorisation"
        DISCONNECTED = "disconnected", "Disconnected"

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, related_name="salesforce_connection"
    )
    instance_url = models.URLField(blank=True)
    org_id = models.CharField(max_length=18, blank=True)
    api_version = models.CharField(max_length=8, default="62.0")
    access_token = EncryptedTextField(blank=True, default="")
    refresh_token = EncryptedTextField(blank=True, default="")
    # "The user who installed the integration": owns Tasks whose logging user has no
    # Salesforce User.
    installed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    installer_salesforce_user_id = models.CharField(max_length=18, blank=True)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.DISCONNECTED)
    status_reason = models.TextField(blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    # Salesforce answered REQUEST_LIMIT_EXCEEDED: no job of this tenant runs before this.
    paused_until = models.DateTimeField(null=True, blank=True)
    # Whether the org relates several Contacts to one activity (Shared Activities);
    # unknown until an Event with further people was written.
    shared_activities = models.BooleanField(null=True, blank=True)
    # The org's API usage as Salesforce last reported it (`Sforce-Limit-Info`, counted
    # over a rolling 24 hours by Salesforce) and when: the ops dashboard shows it.
    api_usage_used = models.PositiveIntegerField(default=0)
    api_usage_limit = models.PositiveIntegerField(default=0)
    api_usage_at = models.DateTimeField(null=True, blank=True)
    # Where the org's users sign in, and so where tokens are traded and refreshed: a
    # sandbox's or a My Domain's login address (`https://host`), checked by
    # `login_url_clean`. Empty: the production login address (SALESFORCE_LOGIN_URL).
    login_url = models.CharField(max_length=255, blank=True, default="")
    # What the last connection check read from the org (`ConnectionCheck.to_json`, in
    # integrations/salesforce/capabilities.py) and when; null before the first check.
    capabilities = models.JSONField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Salesforce for {self.tenant} ({self.get_status_display()})"


class IntegrationSettings(models.Model):
    class Destination(models.TextChoices):
        NOTES_AND_EVENTS = "notes_and_events", "Highlights as Notes and meetings as Events"
        NOTES_ONLY = "notes_only", "Highlights as Notes only"

    class NoteFlavour(models.TextChoices):
        CONTENT_NOTE = "content_note", "Lightning note (ContentNote)"
        CLASSIC_NOTE = "classic_note", "Classic Note"

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, related_name="integration_settings"
    )
    highlights_destination = models.CharField(
        max_length=20, choices=Destination.choices, default=Destination.NOTES_AND_EVENTS
    )
    note_flavour = models.CharField(
        max_length=20, choices=NoteFlavour.choices, default=NoteFlavour.CONTENT_NOTE
    )
    auto_sync = models.BooleanField(default=False)
    auto_sync_match_order = models.JSONField(default=default_match_order)
    log_scheduled_meetings = models.BooleanField(default=True)
    log_calls_automatically = models.BooleanField(default=False)
    # Where "listen to the audio" links in Notes point (the portal's own address).
    link_back_base_url = models.URLField(blank=True)
    # Phone matching: the country a national number (no +country code) is read in, as
    # an ISO 3166 region code, and the tenant's own numbers (E.164), never matched.
    phone_default_region = models.CharField(max_length=2, default="US")
    internal_phone_numbers = models.JSONField(default=list, blank=True)
    # Company fallback: email domains of the tenant's own choosing that never count as
    # a company's (on top of the free-mail and consumer domains the product ships with).
    free_mail_domains_extra = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "integration settings"

    def __str__(self) -> str:
        return f"Settings of {self.tenant}"


class SyncMapping(models.Model):
    """The one durable row of one Salesforce record the portal owns or means to own:
    (local object, purpose) -> record. Unique, so one local thing never makes two
    records. Its state says where the record stands (see README, "Delivery"):

        planned / deleted / no row -> sent (in doubt) -> confirmed
                                      sent -> planned (refused, or not found)
        confirmed -> planned (deleted in Salesforce by someone: made again)
        confirmed -> deleting (in doubt) -> deleted, or back to confirmed
    """

    class State(models.TextChoices):
        PLANNED = "planned", "Planned"
        SENT = "sent", "Sent, not confirmed"
        CONFIRMED = "confirmed", "In Salesforce"
        DELETING = "deleting", "Being deleted"
        DELETED = "deleted", "Deleted by us"

    IN_DOUBT = (State.SENT, State.DELETING)

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="sync_mappings")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    local_object = GenericForeignKey("content_type", "object_id")
    purpose = models.CharField(max_length=40, choices=Purpose.choices)
    salesforce_object = models.CharField(max_length=40)
    salesforce_id = models.CharField(max_length=18, blank=True)
    # The local version the record last received: an older push never overwrites it.
    pushed_version = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PLANNED)
    # The record a Note, Event or Task is linked to (an Account, Opportunity, ...); kept
    # after a deletion, so a record wanted again is made where it was.
    parent_object = models.CharField(max_length=40, blank=True)
    parent_id = models.CharField(max_length=18, blank=True)
    parent_name = models.CharField(max_length=255, blank=True)
    # Jobs with this key settle the row when it is in doubt (the key of the object whose
    # job sent it: one meeting, activity or booking).
    lock_key = models.CharField(max_length=80, blank=True)
    # While sent: what makes the record recognisable in Salesforce (see sync.identity),
    # when it was sent, by which Salesforce user and which job. `sent_at` stays set after
    # any write to the record whose answer never came, until the record is settled.
    identity = models.JSONField(default=dict, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by_user_id = models.CharField(max_length=18, blank=True)
    sent_by_job = models.ForeignKey(
        "SyncJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "content_type", "object_id", "purpose"],
                name="sync_mapping_one_record_per_purpose",
            )
        ]
        indexes = [
            models.Index(fields=["salesforce_id"]),
            models.Index(
                fields=["lock_key"],
                condition=models.Q(state__in=["sent", "deleting"]),
                name="sync_mapping_in_doubt",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} -> {self.salesforce_object} {self.salesforce_id or '(none)'}"

    @property
    def live(self) -> bool:
        """The record exists in Salesforce and is ours to update."""
        return self.state == self.State.CONFIRMED and bool(self.salesforce_id)


class OutsidePerson(models.Model):
    """An outside address the portal makes a Salesforce Contact for: one per tenant and
    email, so two syncs asking at once create one Contact (its SyncMapping is claimed)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="outside_people")
    email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "email"], name="outside_person_one_per_email")
        ]

    def __str__(self) -> str:
        return self.email


class SyncJob(models.Model):
    """The outbox: written in the transaction of the change that causes it; the task
    queue only carries its id."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        NEEDS_REVIEW = "needs_review", "Needs review"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        # Ops or a tenant admin decided the job is not to be synced (with a reason):
        # ended, and counted apart from failures.
        DISMISSED = "dismissed", "Dismissed"

    class Wait(models.TextChoices):
        """What a pending job waits for, so each wait is lifted by what ends it alone."""

        NOTHING = "", "Nothing"
        BACKOFF = "backoff", "Retry after an error"
        API_LIMIT = "api_limit", "The org's daily API limit"
        CONNECTION = "connection", "A working Salesforce connection"
        RECORD = "record", "Another sync making the same record"
        TIME = "time", "Its turn (the previous run ran out of time)"
        DOUBT = "doubt", "A change sent without an answer to land or not"
        CAPABILITY = "capability", "Something the org does not allow (see the connection check)"

    OPEN_STATES = (State.PENDING, State.RUNNING)

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="sync_jobs")
    operation = models.CharField(max_length=40, choices=Operation.choices)
    # Jobs with the same key never run at the same time (a unique index over running
    # jobs): all jobs touching one meeting's records share the meeting's key.
    lock_key = models.CharField(max_length=80, blank=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    local_object = GenericForeignKey("content_type", "object_id")
    # Extra input for the job (a chosen record, a create request), never local state:
    # the job reads the object's current state when it runs.
    params = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=14, choices=State.choices, default=State.PENDING)
    # Why the job is where it is, in words a tenant admin understands.
    reason = models.TextField(blank=True)
    # Records a person chooses between when the job needs review.
    candidates = models.JSONField(default=list, blank=True)
    attempt_count = models.PositiveIntegerField(default=0)
    # The Salesforce error code of the last attempt ("" when it had none): ops filter by it.
    last_error_code = models.CharField(max_length=80, blank=True, db_index=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    waiting_for = models.CharField(max_length=10, choices=Wait.choices, blank=True, default="")
    # A running job whose lease passed is taken to have lost its worker.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Set at each claim: finishing, releasing and extending the lease are conditional on
    # it, so a worker that outlived its lease cannot overwrite the next run's result.
    claim_token = models.UUIDField(null=True, blank=True)
    # When the job was last handed to the task queue: the sweeper hands a due job over
    # again only when it was not handed over since it became due (or the broker lost it).
    dispatched_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            (
                "operate_syncs",
                "Can operate syncs (resolve, retry, dismiss, run now, resume, reassign)",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["lock_key"],
                condition=models.Q(state="running"),
                name="sync_job_one_running_per_object",
            )
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            models.Index(fields=["tenant", "state", "id"]),
            models.Index(fields=["tenant", "content_type", "object_id"]),
            # An object's open jobs, read at every change of it (the enqueue reuses a
            # pending job, found by its lock key) and at every claim.
            models.Index(fields=["lock_key", "state"], name="sync_job_by_object_and_state"),
            # The ops dashboard: jobs by tenant and state over a window, outcomes per hour.
            models.Index(fields=["created_at", "tenant", "state"]),
            models.Index(fields=["finished_at", "state"]),
            # The ops dashboard: each tenant's last success, one lookup per tenant.
            models.Index(
                fields=["tenant", "state", "finished_at"], name="sync_job_tenant_last_finished"
            ),
            # The ops dashboard: jobs waiting (for someone, or their turn) counted per
            # tenant without reading the table. The condition is written with OR:
            # PostgreSQL cannot match a query's `state IN (...)` to the array cast that
            # `state__in` makes in an index condition.
            models.Index(
                fields=["tenant", "state", "next_attempt_at", "created_at"],
                condition=(
                    models.Q(state="pending")
                    | models.Q(state="needs_review")
                    | models.Q(state="failed")
                ),
                name="sync_job_waiting_by_tenant",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operation} #{self.pk} ({self.state})"


class SyncAttempt(models.Model):
    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        RETRY = "retry", "Will retry"
        REAUTH = "reauth", "Needs re-authorisation"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        NEEDS_REVIEW = "needs_review", "Needs review"

    job = models.ForeignKey(SyncJob, on_delete=models.CASCADE, related_name="attempts")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=14, choices=Outcome.choices, blank=True)
    salesforce_error_code = models.CharField(max_length=80, blank=True)
    message = models.TextField(blank=True)
    api_calls = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    # The Salesforce user whose session sent the attempt's requests.
    salesforce_user_id = models.CharField(max_length=18, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [
            # The ops dashboard: API calls per day and top error codes over a window.
            models.Index(fields=["started_at"]),
            # The same, read from the index alone (a covering index).
            models.Index(
                fields=["started_at", "api_calls", "salesforce_error_code"],
                name="sync_attempt_started_usage",
            ),
        ]

    def __str__(self) -> str:
        return f"attempt of job {self.job_id}: {self.outcome}"


class MatchChoice(models.Model):
    """A person's answer to "which record is this address?", remembered for the next
    activity with the same address (SPEC 3.5); for someone known only by phone, the
    answer for that number (`phone`, E.164, with no email)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="match_choices")
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=16, blank=True, default="")
    salesforce_object = models.CharField(max_length=40)
    salesforce_id = models.CharField(max_length=18)
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "email"],
                condition=~models.Q(email=""),
                name="match_choice_one_per_email",
            ),
            models.UniqueConstraint(
                fields=["tenant", "phone"],
                condition=~models.Q(phone=""),
                name="match_choice_one_per_phone",
            ),
            # Each choice is for an address or for a number, never both or neither.
            models.CheckConstraint(
                condition=(models.Q(email="") & ~models.Q(phone=""))
                | (~models.Q(email="") & models.Q(phone="")),
                name="match_choice_email_or_phone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email or self.phone} -> {self.salesforce_object} {self.salesforce_id}"

    @staticmethod
    def key_of(key: str) -> dict[str, Any]:
        """The lookup for a participant's key: an address, or (starting with "+") the
        E.164 number of someone known only by phone."""
        return {"phone": key} if key.startswith("+") else {"email": key}


class SweeperRun(models.Model):
    """When the outbox sweeper last finished a sweep: a single row, rewritten by every
    sweep, so /health/ can tell that the worker stopped sweeping."""

    finished_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Last sweep at {self.finished_at:%Y-%m-%d %H:%M:%S}"
