"""Ops open a tenant's pages as the tenant sees them, read-only ("View as tenant").
The rule of what that allows lives in `tenants.access`; these views only start and
stop it."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tenants.access import can_view_as, view_as_start, view_as_stop
from tenants.models import Tenant


@staff_member_required
def view_as(request: HttpRequest, tenant_id: int) -> HttpResponse:
    """GET asks to confirm (so a link alone never switches what an ops user sees);
    POST starts viewing and opens the tenant's overview."""
    if not can_view_as(request.user):
        raise PermissionDenied
    tenant = get_object_or_404(Tenant, pk=tenant_id)
    if request.method == "POST":
        view_as_start(request, tenant=tenant)
        return HttpResponseRedirect(reverse("portal:home"))
    return render(request, "portal/view_as_confirm.html", {"viewed_tenant": tenant})


@require_POST
@staff_member_required
def view_as_end(request: HttpRequest) -> HttpResponse:
    tenant = view_as_stop(request)
    if tenant is None:
        return HttpResponseRedirect(reverse("admin:index"))
    return HttpResponseRedirect(reverse("admin:tenants_tenant_change", args=[tenant.pk]))
