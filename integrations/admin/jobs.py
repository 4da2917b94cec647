"""Sync jobs as ops find and read them (the list, the job page). What ops do to a job
(resolve, retry, dismiss, ...) is in `job_actions`; what the page shows is built in
`job_page`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince, timeuntil

from core.admin import ReadOnlyAdminMixin
from integrations.admin.job_actions import SyncJobActionsMixin
from integrations.admin.job_page import job_page_build, job_subject
from integrations.admin.permissions import can_operate
from integrations.job_search import sync_jobs_matching
from integrations.models import SyncJob
from integrations.selectors import sync_job_error_codes, sync_jobs_with_objects

MODEL_FIELDS = [f.name for f in SyncJob._meta.fields]


class SalesforceErrorFilter(admin.SimpleListFilter):
    """The error codes jobs ended their last attempt with, as Salesforce names them."""

    title = "Salesforce error"
    parameter_name = "error"
    NO_ERROR = "none"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(self.NO_ERROR, "No error"), *((c, c) for c in sync_job_error_codes())]

    def queryset(self, request: HttpRequest, queryset: QuerySet[SyncJob]) -> QuerySet[SyncJob]:
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(last_error_code="" if value == self.NO_ERROR else value)


def state_badge(job: SyncJob) -> SafeString:
    """The state as a coloured badge (see the templates' styles); hovering shows why."""
    why = job.reason
    if job.state == SyncJob.State.PENDING and job.waiting_for:
        why = f"Waiting for {str(job.get_waiting_for_display()).lower()}. {why}"
    return format_html(
        '<span class="job-state job-state-{}" title="{}">{}</span>',
        job.state,
        why,
        job.get_state_display(),
    )


def _moment(value: datetime) -> str:
    return date_format(timezone.localtime(value), "j M Y, H:i")


def _gap(moment: datetime) -> str:
    """ "4 minutes", "2 hours": the larger unit only, to keep the column narrow."""
    now = timezone.now()
    return timesince(moment, now, depth=1) if moment <= now else timeuntil(moment, now, depth=1)


@admin.register(SyncJob)
class SyncJobAdmin(ReadOnlyAdminMixin, SyncJobActionsMixin):
    """Jobs are written by the services alone (a job edited or added by hand would skip
    the outbox's rules): the page reads, and acting is the action pages' business."""

    # What a row is about and where it stands come first: on a phone they are what
    # shows before the table scrolls.
    list_display = [
        "number",
        "subject",
        "state_badge",
        "operation_label",
        "tenant",
        "attempts",
        "error_code",
        "when",
    ]
    list_display_links = ["number", "subject"]
    list_filter = [
        "tenant",
        "state",
        "operation",
        SalesforceErrorFilter,
        ("created_at", admin.DateFieldListFilter),
    ]
    list_select_related = ["tenant", "content_type"]
    # The search box is Django's; what it finds is `sync_jobs_matching`'s.
    search_fields = ["=id"]
    search_help_text = (
        "A job number, a meeting's, call's or booking's external id, an email address "
        "(or part of one), a title, or a Salesforce Id."
    )
    # Over millions of jobs: no count of every job on each page (the filtered count is
    # shown), and the date filter in the sidebar instead of a date drill-down, whose
    # own queries read the whole table.
    show_full_result_count = False
    readonly_fields = MODEL_FIELDS
    change_form_template = "admin/integrations/syncjob/change_form.html"
    change_list_template = "admin/integrations/syncjob/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[SyncJob]:
        return sync_jobs_with_objects(super().get_queryset(request))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[SyncJob], search_term: str
    ) -> tuple[QuerySet[SyncJob], bool]:
        # Subqueries, no joins: a job is never found twice, so no DISTINCT is needed.
        return sync_jobs_matching(queryset, search_term), False

    # Django names each row's checkbox after str(job), which is for developers.
    def action_checkbox(self, job: SyncJob) -> SafeString:
        label = f"Select job {job.pk}: {job_subject(job)}"
        checkbox = forms.CheckboxInput(
            {"class": "action-select", "aria-label": label}, lambda value: False
        )
        return checkbox.render(ACTION_CHECKBOX_NAME, str(job.pk))

    @admin.display(description="Job", ordering="id")
    def number(self, job: SyncJob) -> str:
        return f"#{job.pk}"

    @admin.display(description="About")
    def subject(self, job: SyncJob) -> str:
        return job_subject(job)

    @admin.display(description="Operation", ordering="operation")
    def operation_label(self, job: SyncJob) -> str:
        return str(job.get_operation_display())

    @admin.display(description="State", ordering="state")
    def state_badge(self, job: SyncJob) -> SafeString:
        return state_badge(job)

    @admin.display(description="Attempts", ordering="attempt_count")
    def attempts(self, job: SyncJob) -> int:
        return job.attempt_count

    @admin.display(description="Salesforce error", ordering="last_error_code")
    def error_code(self, job: SyncJob) -> str:
        if not job.last_error_code:
            return "—"
        # Codes are long (FIELD_CUSTOM_VALIDATION_EXCEPTION): they may break after "_".
        parts = job.last_error_code.split("_")
        breakable = format_html_join(mark_safe("_<wbr>"), "{}", ((part,) for part in parts))
        return format_html('<code class="error-code">{}</code>', breakable)

    @admin.display(description="Next attempt / updated", ordering="updated_at")
    def when(self, job: SyncJob) -> str:
        if job.state == SyncJob.State.PENDING and job.next_attempt_at:
            moment, words = job.next_attempt_at, "next attempt in " + _gap(job.next_attempt_at)
        else:
            moment, words = job.updated_at, "updated " + _gap(job.updated_at) + " ago"
        return format_html('<span title="{}">{}</span>', _moment(moment), words)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Not Django's "Select sync job to change": nobody changes a job here.
        return super().changelist_view(request, {"title": "Sync jobs", **(extra_context or {})})

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = dict(extra_context or {})
        job = self.get_object(request, unquote(object_id))
        if job is not None:
            page = job_page_build(job)
            context.update(
                page=page,
                title=f"Sync job {job.pk}",
                subtitle=page.subject,
                may_operate=can_operate(request),
            )
        return super().change_view(request, object_id, form_url, context)
