"""The one place a tenant page gets its tenant: the signed-in user's membership.

Views decorated with `tenant_page` receive `request.membership` (and so
`request.membership.tenant`) and fetch everything through selectors given that tenant.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenants.models import Membership
from tenants.selectors import membership_for_user

View = Callable[..., HttpResponse]


def tenant_page(*, admin_only: bool = False) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            membership = membership_for_user(user=request.user)
            if membership is None:
                return render(request, "portal/no_tenant.html", status=403)
            if admin_only and membership.role != Membership.Role.ADMIN:
                return render(
                    request, "portal/admin_only.html", {"membership": membership}, status=403
                )
            request.membership = membership  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
