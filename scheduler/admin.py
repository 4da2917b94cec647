"""Ops pages for bookings and scheduler webhooks. A booking's sync history is added by
integrations' admin, which knows about syncing; this app does not.

Bookings come from the scheduler's webhooks, and a change goes through the services
that enqueue its sync: ops read these pages, they never edit them."""

from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyAdminMixin
from scheduler.models import Booking, SchedulerWebhookEvent


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "title",
        "tenant",
        "external_id",
        "host_email",
        "guest_email",
        "start",
        "status",
        "version",
    ]
    list_filter = ["status", "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["external_id", "host_email", "guest_email", "title"]
    date_hierarchy = "start"


@admin.register(SchedulerWebhookEvent)
class SchedulerWebhookEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["event_id", "tenant", "event_type", "outcome", "booking", "received_at"]
    list_filter = ["event_type", "outcome", "tenant"]
    list_select_related = ["tenant", "booking"]
    search_fields = ["event_id", "booking__external_id"]
    readonly_fields = [f.name for f in SchedulerWebhookEvent._meta.fields]
