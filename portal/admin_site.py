"""The Django admin as ops use it: its index opens on the health of every tenant's sync,
above the usual list of models."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from integrations.dashboard.charts import chart_render
from integrations.dashboard.selectors import ops_dashboard
from integrations.models import SyncJob


class OpsAdminSite(admin.AdminSite):
    site_header = "Integration portal ops"
    site_title = "Integration portal ops"
    index_title = "Health of every tenant's sync"
    index_template = "admin/ops_index.html"

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        context = dict(extra_context or {})
        if self._may_read_sync_jobs(request):
            dashboard = ops_dashboard()
            context["ops_dashboard"] = dashboard
            context["ops_charts"] = [chart_render(chart) for chart in dashboard.charts]
        return super().index(request, extra_context=context)

    def _may_read_sync_jobs(self, request: HttpRequest) -> bool:
        """The dashboard shows what the job list shows: whoever may open that list (the
        admin's own rule, view or change permission) sees it."""
        job_admin = self._registry.get(SyncJob)
        return job_admin is not None and job_admin.has_view_permission(request)
