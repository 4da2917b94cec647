"""Ops pages for meetings, highlights and activities. Their sync history (mappings,
jobs) is added by integrations' admin, which knows about syncing; this app does not.

Everything here comes from partner products through the API, and a change goes through
the services that enqueue its sync: ops read these pages, they never edit them."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin import HTTPS_URLS, ReadOnlyAdminMixin
from meetings.models import Activity, ActivityParticipant, Attendee, Highlight, Meeting, Transcript


class AttendeeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Attendee
    extra = 0


class HighlightInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Highlight
    extra = 0
    fields = ["external_id", "offset_seconds", "speaker", "text", "version", "is_deleted"]
    readonly_fields = ["version"]
    show_change_link = True


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    formfield_overrides = HTTPS_URLS
    list_display = ["title", "tenant", "external_id", "start", "status", "processed_at"]
    list_filter = ["status", "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["external_id", "title", "attendees__email", "organizer_email"]
    date_hierarchy = "start"
    inlines = [AttendeeInline, HighlightInline]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Meeting], search_term: str
    ) -> tuple[QuerySet[Meeting], bool]:
        results, _ = super().get_search_results(request, queryset, search_term)
        return results.distinct(), False


@admin.register(Transcript)
class TranscriptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["meeting", "updated_at"]
    list_select_related = ["meeting"]
    search_fields = ["meeting__external_id", "meeting__title"]


@admin.register(Highlight)
class HighlightAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "external_id",
        "meeting",
        "tenant",
        "speaker",
        "version",
        "is_deleted",
        "updated_at",
    ]
    list_filter = ["is_deleted", "tenant"]
    list_select_related = ["meeting", "tenant"]
    search_fields = ["external_id", "meeting__external_id", "text"]
    readonly_fields = ["version"]


class ParticipantInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ActivityParticipant
    extra = 0


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["external_id", "tenant", "kind", "direction", "started_at", "logged_by_email"]
    list_filter = ["kind", "direction", "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["external_id", "logged_by_email", "participants__email", "participants__phone"]
    inlines = [ParticipantInline]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Activity], search_term: str
    ) -> tuple[QuerySet[Activity], bool]:
        results, _ = super().get_search_results(request, queryset, search_term)
        return results.distinct(), False
