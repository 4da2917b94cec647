"""Conversations partners push to us: recorded meetings (with attendees, transcript and
highlights) and activities from the communications product (calls, conferences, tasks).

Nothing here knows about Salesforce; changes are announced through `meetings.events`.
"""

from __future__ import annotations

from django.db import models

from tenants.models import Tenant

# Partners' text is stored whole up to these lengths; the partner API refuses longer
# input with a 400 (its serializers read the limits from these fields). Salesforce's
# fields are shorter: the sync cuts what does not fit there, marked, and says so.
TITLE_MAX_LENGTH = 2000
TEXT_MAX_LENGTH = 100_000
TRANSCRIPT_MAX_LENGTH = 1_000_000


class Meeting(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        RECORDING = "recording", "Recording"
        PROCESSING = "processing", "Processing"
        PROCESSED = "processed", "Processed"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="meetings")
    external_id = models.CharField(max_length=200)
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    start = models.DateTimeField()
    end = models.DateTimeField()
    organizer_email = models.EmailField(blank=True)
    recording_url = models.URLField(max_length=1000, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    processed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="meeting_unique_external_id"
            ),
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="meeting_end_after_start"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "status", "start"])]

    def __str__(self) -> str:
        return self.title


class Attendee(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendees")
    # Normalised (trimmed, lower-cased) by the services; internal/external comes from
    # the tenant's domains at read time (Tenant.is_internal_email), never stored.
    email = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "email"], name="attendee_unique_email")
        ]
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return self.email


class Transcript(models.Model):
    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="transcript")
    text = models.TextField(max_length=TRANSCRIPT_MAX_LENGTH)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Transcript of {self.meeting}"


class Highlight(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="highlights")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="highlights")
    external_id = models.CharField(max_length=200)
    text = models.TextField(max_length=TEXT_MAX_LENGTH)
    speaker = models.CharField(max_length=200, blank=True)
    # Where the highlight starts in the recording; the Note's "listen" link seeks there.
    offset_seconds = models.DecimalField(max_digits=10, decimal_places=3, default=0)
    # Increases by one on every change (edit or deletion): the sync compares versions
    # so that a late retry of an older version never overwrites a newer one.
    version = models.PositiveIntegerField(default=1)
    is_deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["offset_seconds", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "external_id"], name="highlight_unique_external_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.meeting}: {self.text[:40]}"


class Activity(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", "Call"
        CONFERENCE = "conference", "Conference"
        TASK = "task", "Task"

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="activities")
    external_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    # Calls only: conferences and tasks have no direction.
    direction = models.CharField(max_length=10, choices=Direction.choices, blank=True)
    started_at = models.DateTimeField()
    duration_seconds = models.PositiveIntegerField(default=0)
    subject = models.CharField(max_length=TITLE_MAX_LENGTH, blank=True)
    notes = models.TextField(max_length=TEXT_MAX_LENGTH, blank=True)
    # The internal user who logged it (normalised email).
    logged_by_email = models.EmailField()
    logged_by_name = models.CharField(max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name_plural = "activities"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="activity_unique_external_id"
            ),
            models.CheckConstraint(
                condition=models.Q(kind="call", direction__in=["inbound", "outbound"])
                | (~models.Q(kind="call") & models.Q(direction="")),
                name="activity_direction_only_for_calls",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.external_id}"


class ActivityParticipant(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="participants")
    # An internal user is known by email; an external party by email and/or phone.
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(email="", phone=""), name="participant_has_email_or_phone"
            )
        ]
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return self.email or self.phone
