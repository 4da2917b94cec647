"""The Salesforce records the portal owns (mappings), and people's answers to "which
record is this address?"."""

from __future__ import annotations

from django.contrib import admin

from integrations.models import MatchChoice, SyncMapping


@admin.register(SyncMapping)
class SyncMappingAdmin(admin.ModelAdmin[SyncMapping]):
    list_display = [
        "tenant",
        "purpose",
        "content_type",
        "object_id",
        "salesforce_object",
        "salesforce_id",
        "pushed_version",
        "state",
        "updated_at",
    ]
    list_filter = ["purpose", "salesforce_object", "state", "tenant"]
    list_select_related = ["tenant", "content_type"]
    search_fields = ["salesforce_id", "tenant__name"]
    readonly_fields = [f.name for f in SyncMapping._meta.fields]


@admin.register(MatchChoice)
class MatchChoiceAdmin(admin.ModelAdmin[MatchChoice]):
    """What people answered to "which record is this address?": ops may reassign it."""

    list_display = [
        "tenant",
        "email",
        "salesforce_object",
        "salesforce_id",
        "chosen_by",
        "updated_at",
    ]
    list_filter = ["salesforce_object", "tenant"]
    list_select_related = ["tenant", "chosen_by"]
    search_fields = ["email", "salesforce_id"]
    readonly_fields = ["updated_at"]
