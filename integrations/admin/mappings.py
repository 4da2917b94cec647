"""The Salesforce records the portal owns (mappings), and people's answers to "which
record is this address?"."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from core.admin import ReadOnlyAdminMixin
from core.errors import DomainError
from integrations.admin.permissions import OperateSyncsMixin, can_operate, operate_required
from integrations.models import MatchChoice, SyncMapping
from integrations.services.mappings import sync_mapping_reassign

# Read-only fields are rendered from the object alone: `get_object` marks the mapping
# with whether the person looking may reassign it, so the button is offered only to them.
_MAY_OPERATE = "_ops_may_operate"


class SyncMappingReassignForm(forms.Form):
    salesforce_id = forms.CharField(
        label="Id of the other record",
        max_length=40,
        help_text="Copy it from the record's address in Salesforce (15 or 18 characters).",
    )


@admin.register(SyncMapping)
class SyncMappingAdmin(ReadOnlyAdminMixin, OperateSyncsMixin, admin.ModelAdmin[SyncMapping]):
    """Read only: the sync moves a mapping from state to state. The one change ops make
    by hand, pointing it at another record, has a page of its own."""

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
    readonly_fields = [*(f.name for f in SyncMapping._meta.fields), "reassign"]

    @admin.display(description="Reassign")
    def reassign(self, mapping: SyncMapping) -> str:
        if not getattr(mapping, _MAY_OPERATE, False):
            return "Reassigning a record needs the “operate syncs” permission."
        if mapping.state != SyncMapping.State.CONFIRMED:
            return "Only a record that is in Salesforce can be reassigned."
        url = reverse("admin:integrations_syncmapping_reassign", args=[mapping.pk])
        return format_html(
            '<a class="button" href="{}">Reassign to another Salesforce record</a>', url
        )

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> SyncMapping | None:
        mapping = super().get_object(request, object_id, from_field)
        if mapping is not None:
            setattr(mapping, _MAY_OPERATE, can_operate(request))
        return mapping

    def get_urls(self) -> list[URLPattern]:
        reassign = path(
            "<int:mapping_id>/reassign/",
            self.admin_site.admin_view(self.reassign_view),
            name="integrations_syncmapping_reassign",
        )
        return [reassign, *super().get_urls()]

    def reassign_view(self, request: HttpRequest, mapping_id: int) -> HttpResponse:
        mapping = get_object_or_404(
            SyncMapping.objects.select_related("tenant", "content_type"), pk=mapping_id
        )
        operate_required(request)
        assert request.user.is_authenticated  # admin_view lets only signed-in staff in
        form = SyncMappingReassignForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                mapping = sync_mapping_reassign(
                    mapping=mapping,
                    salesforce_id=form.cleaned_data["salesforce_id"],
                    by=request.user,
                )
            except DomainError as error:
                form.add_error("salesforce_id" if error.field else None, error.message)
            else:
                self.message_user(
                    request,
                    f"The {mapping.salesforce_object} is now {mapping.salesforce_id}; the next "
                    "sync writes to it.",
                )
                return HttpResponseRedirect(
                    reverse("admin:integrations_syncmapping_change", args=[mapping.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Reassign to another Salesforce record",
            "mapping": mapping,
            "local_object": mapping.local_object,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/integrations/syncmapping_reassign.html", context)


@admin.register(MatchChoice)
class MatchChoiceAdmin(admin.ModelAdmin[MatchChoice]):
    """What people answered to "which record is this address?". Read-only: an answer is
    given through a job's review, where it is checked. Ops who operate syncs may forget
    one (delete it), so the next activity with that address asks again."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_operate(request) and super().has_delete_permission(request, obj)

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
