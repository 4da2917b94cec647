"""Bookings made through the meeting scheduler. Nothing here knows about Salesforce."""

from __future__ import annotations

from django.db import models

from tenants.models import Tenant

# A booking's title and description are stored whole up to these lengths (the partner
# API and the webhook refuse longer with a 400); the sync cuts what does not fit in
# Salesforce, marked, and says so.
TITLE_MAX_LENGTH = 2000
DESCRIPTION_MAX_LENGTH = 100_000


class Booking(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        RESCHEDULED = "rescheduled", "Rescheduled"
        CANCELLED = "cancelled", "Cancelled"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="bookings")
    external_id = models.CharField(max_length=200)
    # The agent: an internal user, known by email (normalised).
    host_email = models.EmailField()
    guest_name = models.CharField(max_length=200, blank=True)
    guest_email = models.EmailField()
    # Only bookings a guest made through the scheduler are logged to Salesforce.
    booked_by_guest = models.BooleanField(default=True)
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    description = models.TextField(max_length=DESCRIPTION_MAX_LENGTH, blank=True)
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    # The scheduler's own version of the booking: a change carrying a version not newer
    # than this one is stale (out of order or repeated) and is ignored.
    version = models.PositiveIntegerField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="booking_unique_external_id"
            ),
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="booking_end_after_start"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "status", "start"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.guest_email})"


class SchedulerWebhookEvent(models.Model):
    """Every webhook event id accepted, so a replayed delivery is refused."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="scheduler_events")
    event_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=60)
    booking = models.ForeignKey(Booking, on_delete=models.SET_NULL, null=True, blank=True)
    outcome = models.CharField(max_length=40)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "event_id"], name="scheduler_event_unique_id")
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"
