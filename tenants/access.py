"""The one place a tenant page gets its tenant: the signed-in user's membership, or the
tenant an ops user chose to view as.

Views decorated with `tenant_page` receive a `TenantRequest`: its `membership` (and so
`request.membership.tenant`) says whose data the page shows, and they fetch everything
through selectors given that tenant. While the view runs, the tenant's timezone is the
active one, so every time on its pages is shown in it.

"View as tenant": a staff user allowed to see tenants opens a tenant's pages as its
admin would see them, read-only. While the session says so, every tenant page shows
that tenant with a banner; anything but reading (a POST, or a page that starts an
action such as connecting Salesforce) is refused. Starting and stopping are logged.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, cast

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from tenants.models import Membership, Tenant
from tenants.selectors import membership_for_user

logger = logging.getLogger(__name__)

P = ParamSpec("P")

# The session key holding the id of the tenant an ops user views as.
VIEW_AS_SESSION_KEY = "ops_view_as_tenant"
READING = ("GET", "HEAD", "OPTIONS")


class TenantRequest(HttpRequest):
    """A request to a tenant page: a signed-in user and the membership they work in."""

    user: User
    membership: Membership
    # An ops user looking at the tenant's pages read-only (see "View as tenant").
    viewing_as_ops: bool


# A tenant's pages show its meetings, calls, bookings and sync log: an ops user views
# them as the tenant only when the admin would show them all of those.
VIEW_AS_PERMISSIONS = (
    "tenants.view_tenant",
    "meetings.view_meeting",
    "meetings.view_activity",
    "scheduler.view_booking",
    "integrations.view_syncjob",
)


def can_view_as(user: User | AnonymousUser) -> bool:
    """Staff who may see a tenant and all its data in the admin may see its pages,
    read-only."""
    return bool(user.is_active and user.is_staff and user.has_perms(VIEW_AS_PERMISSIONS))


def view_as_start(request: HttpRequest, *, tenant: Tenant) -> None:
    """Show `tenant`'s pages to this ops user from now on, read-only; logged in the
    admin's history of the tenant and in the application log."""
    if not request.user.is_authenticated or not can_view_as(request.user):
        raise PermissionDenied
    request.session[VIEW_AS_SESSION_KEY] = tenant.pk
    _view_as_log(request.user, tenant, "Viewed the tenant's pages as the tenant (read-only).")


def view_as_stop(request: HttpRequest) -> Tenant | None:
    """Back to the ops user's own view; the tenant they stop viewing, if any."""
    tenant_id = request.session.pop(VIEW_AS_SESSION_KEY, None)
    tenant = Tenant.objects.filter(pk=tenant_id).first() if tenant_id else None
    if tenant is not None and request.user.is_authenticated:
        _view_as_log(request.user, tenant, "Stopped viewing the tenant's pages.")
    return tenant


def _view_as_log(user: User, tenant: Tenant, message: str) -> None:
    LogEntry.objects.log_actions(
        user_id=user.pk,
        queryset=[tenant],
        action_flag=CHANGE,
        change_message=message,
        single_object=True,
    )
    logger.info("ops user %s: %s (tenant %s)", user.get_username(), message, tenant.slug)


def _viewed_as(request: HttpRequest, user: User) -> Membership | None:
    """The read-only membership of the tenant an ops user views as, if any."""
    tenant_id = request.session.get(VIEW_AS_SESSION_KEY)
    if tenant_id is None:
        return None
    tenant = Tenant.objects.filter(pk=tenant_id).first() if can_view_as(user) else None
    if tenant is None:
        request.session.pop(VIEW_AS_SESSION_KEY, None)
        return None
    # Never saved: it only says which tenant the pages show, and as whom (its admin).
    return Membership(tenant=tenant, user=user, role=Membership.Role.ADMIN)


def tenant_page(
    *, admin_only: bool = False, acts: bool = False
) -> Callable[
    [Callable[Concatenate[TenantRequest, P], HttpResponse]],
    Callable[Concatenate[HttpRequest, P], HttpResponse],
]:
    def decorate(
        view: Callable[Concatenate[TenantRequest, P], HttpResponse],
    ) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                # login_required, around this, sends anonymous visitors to sign in.
                raise PermissionDenied
            viewed = _viewed_as(request, request.user)
            if viewed is not None and (acts or request.method not in READING):
                context = {"viewed_tenant": viewed.tenant}
                return render(request, "portal/read_only.html", context, status=403)
            membership = viewed or membership_for_user(user=request.user)
            if membership is None:
                return render(request, "portal/no_tenant.html", status=403)
            if admin_only and membership.role != Membership.Role.ADMIN:
                return render(
                    request, "portal/admin_only.html", {"membership": membership}, status=403
                )
            # The same request: its user is signed in (checked above) and it gets its
            # membership on the next line, which is all a TenantRequest adds.
            page = cast(TenantRequest, request)
            page.membership = membership
            page.viewing_as_ops = viewed is not None
            # Every time on the page reads in the tenant's zone. Tenant views render with
            # `render()`, inside the view (a lazy TemplateResponse would render after the
            # zone is deactivated); deactivating leaves the thread's next request alone.
            timezone.activate(zoneinfo.ZoneInfo(membership.tenant.timezone))
            try:
                return view(page, *args, **kwargs)
            finally:
                timezone.deactivate()

        return wrapper

    return decorate
