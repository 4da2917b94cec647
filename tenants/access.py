"""The one place a tenant page gets its tenant: the signed-in user's membership.

Views decorated with `tenant_page` receive a `TenantRequest`: its `membership` (and so
`request.membership.tenant`) says whose data the page shows, and they fetch everything
through selectors given that tenant.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenants.models import Membership
from tenants.selectors import membership_for_user

P = ParamSpec("P")


class TenantRequest(HttpRequest):
    """A request to a tenant page: a signed-in user and the membership they work in."""

    user: User
    membership: Membership


def tenant_page(
    *, admin_only: bool = False
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
            membership = membership_for_user(user=request.user)
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
            return view(page, *args, **kwargs)

        return wrapper

    return decorate
