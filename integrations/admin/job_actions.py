"""What ops do to sync jobs from the admin: resolve a review, point a job at another
record, retry, dismiss, run now, one job at a time or many from the list.

Each action declares the permission it needs (`permissions=["operate"]`) and each page
calls `operate_required` first; a GET never changes anything. Which actions a job is
open to, and every rule behind them, is the services' (`sync_job_actions`); this module
shows pages and reports."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from core.errors import DomainError
from integrations.admin.job_page import job_subject
from integrations.admin.permissions import OperateSyncsMixin, can_operate, operate_required
from integrations.forms import (
    CREATE_LEAD,
    OTHER,
    SyncJobDismissForm,
    SyncJobResolveForm,
    SyncJobTargetForm,
    record_value,
)
from integrations.models import SyncJob
from integrations.selectors import salesforce_connection_for_tenant
from integrations.services import jobs
from integrations.services.jobs import BulkResult, JobAction
from integrations.services.record_search import salesforce_records_search

LABELS = {
    JobAction.RESOLVE: "Resolve",
    JobAction.RETARGET: "Point at another record",
    JobAction.RETRY: "Retry",
    JobAction.DISMISS: "Dismiss",
}


def _plural(count: int) -> str:
    return f"{count} job" if count == 1 else f"{count} jobs"


def bulk_summary(result: BulkResult, done: str) -> str:
    """What a bulk action did, e.g. "2 jobs queued again; 1 skipped: not failed."."""
    parts = [f"{_plural(len(result.done))} {done}"]
    parts += [f"{len(ids)} skipped: {why}" for why, ids in result.skipped.items()]
    return "; ".join(parts) + "."


# The most jobs a bulk confirmation page lists one by one.
BULK_ROWS_SHOWN = 100


class SyncJobActionsMixin(OperateSyncsMixin, admin.ModelAdmin[SyncJob]):
    """The actions and action pages of SyncJobAdmin (which is registered in `jobs`)."""

    actions = ["retry_failed", "run_now", "dismiss_selected"]

    # --- the job page's buttons -----------------------------------------------------

    def job_action_links(self, job: SyncJob) -> list[tuple[str, str]]:
        """(label, url) of each page for what the job is open to in its state."""
        return [
            (LABELS[action], reverse(f"admin:integrations_syncjob_{action}", args=[job.pk]))
            for action in jobs.sync_job_actions(job)
        ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: SyncJob | None = None,
    ) -> HttpResponse:
        # The job page shows these as buttons, to those who may use them only.
        links = self.job_action_links(obj) if obj is not None and can_operate(request) else []
        context["job_actions"] = links
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- on the list ------------------------------------------------------------------

    def _report(self, request: HttpRequest, result: BulkResult, done: str) -> None:
        level = messages.SUCCESS if result.done else messages.WARNING
        self.message_user(request, bulk_summary(result, done), level)

    @admin.action(description="Retry the selected failed jobs", permissions=["operate"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[SyncJob]) -> None:
        self._report(request, jobs.sync_jobs_retry(jobs=queryset), "queued again")

    @admin.action(description="Run the selected pending jobs now", permissions=["operate"])
    def run_now(self, request: HttpRequest, queryset: QuerySet[SyncJob]) -> None:
        self._report(request, jobs.sync_jobs_run_now(jobs=queryset), "handed to the workers")

    @admin.action(description="Dismiss the selected jobs…", permissions=["operate"])
    def dismiss_selected(
        self, request: HttpRequest, queryset: QuerySet[SyncJob]
    ) -> TemplateResponse | None:
        """Like Django's delete: a page listing the jobs asks for the reason, then posts
        back here with `apply`."""
        form = SyncJobDismissForm(request.POST if "apply" in request.POST else None)
        form.fields["reason"].label = "Why are they dismissed?"
        if form.is_valid():
            assert request.user.is_authenticated  # admin_view lets only signed-in staff in
            try:
                result = jobs.sync_jobs_dismiss(
                    jobs=queryset, reason=form.cleaned_data["reason"], dismissed_by=request.user
                )
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self._report(request, result, "dismissed")
                return None
        # Every selected job is counted; the first BULK_ROWS_SHOWN are listed. With
        # "select all" the page posts back the selection, not thousands of ids.
        dismissed = total = 0
        for job in queryset.select_related(None).prefetch_related(None).only("state", "operation"):
            total += 1
            dismissed += JobAction.DISMISS in jobs.sync_job_actions(job)
        rows = [
            {**_job_row(job), "dismissed": JobAction.DISMISS in jobs.sync_job_actions(job)}
            for job in queryset.select_related("tenant", "content_type")[:BULK_ROWS_SHOWN]
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Dismiss {_plural(dismissed)}" if dismissed else "No job to dismiss",
            "opts": self.model._meta,
            "jobs": rows,
            "dismiss_count": dismissed,
            "left_count": total - dismissed,
            "unlisted_count": total - len(rows),
            "select_across": request.POST.get("select_across") == "1",
            "form": form,
            "action": "dismiss_selected",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/integrations/syncjob_dismiss_selected.html", context
        )

    # --- one job's pages ----------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        pages = {
            JobAction.RESOLVE: self.resolve_view,
            JobAction.RETARGET: self.retarget_view,
            JobAction.RETRY: self.retry_view,
            JobAction.DISMISS: self.dismiss_view,
        }
        own = [
            path(
                f"<int:job_id>/{action}/",
                self.admin_site.admin_view(view),
                name=f"integrations_syncjob_{action}",
            )
            for action, view in pages.items()
        ]
        return [*own, *super().get_urls()]

    def _job(self, request: HttpRequest, job_id: int) -> SyncJob:
        operate_required(request)
        return get_object_or_404(
            SyncJob.objects.select_related("tenant", "content_type"), pk=job_id
        )

    def _to_job_page(self, job: SyncJob) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:integrations_syncjob_change", args=[job.pk]))

    def _not_open(self, request: HttpRequest, job: SyncJob, action: JobAction) -> bool:
        """A GET of a page the job is not open to: say why, and go back to the job."""
        refusal = jobs.sync_job_refusal(job, action)
        if request.method == "POST" or refusal is None:
            return False
        self.message_user(request, f"Job {job.pk}: {refusal}", messages.WARNING)
        return True

    def _page(
        self, request: HttpRequest, job: SyncJob, action: JobAction, template: str, **more: Any
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": f"{LABELS[action]}: sync job {job.pk}",
            "opts": self.model._meta,
            "job": job,
            "about": _job_row(job),
            "action_label": LABELS[action],
            **more,
        }
        return TemplateResponse(request, f"admin/integrations/syncjob_{template}.html", context)

    def resolve_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        job = self._job(request, job_id)
        if self._not_open(request, job, JobAction.RESOLVE):
            return self._to_job_page(job)
        form = SyncJobResolveForm(request.POST or None, job=job)
        if not form.per_email:
            return self._record_page(request, job, JobAction.RESOLVE)
        # A call, conference or task asks which record each address is.
        assert request.user.is_authenticated
        if request.method == "POST" and form.is_valid():
            try:
                jobs.sync_job_resolve(job=job, resolved_by=request.user, **form.resolve_kwargs())
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, f"Job {job.pk} resolved; it runs again now.")
                return self._to_job_page(job)
        base = _salesforce_base(job)
        addresses = [
            {
                **address,
                "rows": _record_rows(
                    address["candidates"], base, address["choice"].value(), with_name=False
                ),
                "create_checked": address["choice"].value() == CREATE_LEAD,
            }
            for address in form.addresses()
        ]
        return self._page(
            request,
            job,
            JobAction.RESOLVE,
            "resolve",
            form=form,
            per_address=True,
            addresses=addresses,
            create_lead=CREATE_LEAD,
        )

    def retarget_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        job = self._job(request, job_id)
        if self._not_open(request, job, JobAction.RETARGET):
            return self._to_job_page(job)
        return self._record_page(request, job, JobAction.RETARGET)

    def _record_page(self, request: HttpRequest, job: SyncJob, action: JobAction) -> HttpResponse:
        """Choose one record: a candidate, a record found by name, or one by Id."""
        assert request.user.is_authenticated
        objects = jobs.record_objects_for(job)
        form = SyncJobTargetForm(request.POST or None, objects=objects)
        if request.method == "POST":
            if form.is_valid():
                try:
                    if action == JobAction.RESOLVE:
                        job = jobs.sync_job_resolve(
                            job=job, choice=form.choice(), resolved_by=request.user
                        )
                    else:
                        job = jobs.sync_job_retarget(job=job, choice=form.choice(), by=request.user)
                except DomainError as error:
                    self.message_user(request, error.message, messages.ERROR)
                else:
                    target = job.params["target"]
                    self.message_user(
                        request,
                        f"Job {job.pk} runs again, linked to {target.get('object')} "
                        f"{target.get('name') or target.get('id')}.",
                    )
                    return self._to_job_page(job)
            else:
                self.message_user(request, _form_errors(form), messages.ERROR)
        query = request.GET.get("q", "").strip()
        found: list[dict[str, str]] = []
        if query:
            try:
                records = salesforce_records_search(tenant=job.tenant, name=query, objects=objects)
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                found = [r.as_dict() for r in records]
        chosen = request.POST.get("record", "")
        base = _salesforce_base(job)
        return self._page(
            request,
            job,
            action,
            action.value if action == JobAction.RETARGET else "resolve",
            form=form,
            per_address=False,
            candidates=_record_rows(job.candidates, base, chosen),
            found=_record_rows(found, base, chosen),
            query=query,
            searched=bool(query),
            objects=", ".join(objects),
            other=OTHER,
            other_checked=chosen == OTHER,
        )

    def retry_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        job = self._job(request, job_id)
        if self._not_open(request, job, JobAction.RETRY):
            return self._to_job_page(job)
        if request.method == "POST":
            try:
                jobs.sync_job_retry(job=job)
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, f"Job {job.pk} queued again.")
                return self._to_job_page(job)
        return self._page(request, job, JobAction.RETRY, "retry")

    def dismiss_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        job = self._job(request, job_id)
        if self._not_open(request, job, JobAction.DISMISS):
            return self._to_job_page(job)
        assert request.user.is_authenticated
        form = SyncJobDismissForm(request.POST or None)
        if request.method == "POST":
            if form.is_valid():
                try:
                    jobs.sync_job_dismiss(
                        job=job, reason=form.cleaned_data["reason"], dismissed_by=request.user
                    )
                except DomainError as error:
                    self.message_user(request, error.message, messages.ERROR)
                else:
                    self.message_user(request, f"Job {job.pk} dismissed.")
                    return self._to_job_page(job)
            else:
                self.message_user(request, _form_errors(form), messages.ERROR)
        return self._page(request, job, JobAction.DISMISS, "dismiss", form=form)


# --- what the pages show --------------------------------------------------------------


def _job_row(job: SyncJob) -> dict[str, Any]:
    """A job in words: what it syncs, for whom, where it stands and why."""
    return {
        "job": job,
        "url": reverse("admin:integrations_syncjob_change", args=[job.pk]),
        "operation": job.get_operation_display(),
        "object": job_subject(job),
        "state": job.get_state_display(),
    }


def _salesforce_base(job: SyncJob) -> str:
    connection = salesforce_connection_for_tenant(tenant=job.tenant)
    return connection.instance_url.rstrip("/") if connection else ""


def _record_rows(
    records: list[dict[str, Any]], salesforce_base: str, chosen: Any, *, with_name: bool = True
) -> list[dict[str, Any]]:
    """Records as the table's rows: the radio value, what tells them apart and a link to
    each in Salesforce. Older jobs' candidates carry only object, Id and name."""
    rows = []
    for record in records:
        value = record_value(record, with_name=with_name)
        record_id = str(record.get("id", ""))
        rows.append(
            {
                "value": value,
                "checked": value == chosen,
                "object": record.get("object", ""),
                "name": record.get("name", ""),
                "email": record.get("email", ""),
                "account": record.get("account", ""),
                "owner": record.get("owner", ""),
                "id": record_id,
                "url": f"{salesforce_base}/{record_id}" if salesforce_base and record_id else "",
            }
        )
    return rows


def _form_errors(form: Any) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)
