"""What an ops user must hold to act on syncing from the admin.

Every admin action and every custom admin view that changes something declares the
permission it needs. Actions say `allowed_permissions=("operate",)`, which Django checks
through `has_operate_permission`; custom views call `operate_required`. Holding only
*view* permissions lets a person read every page and change nothing."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

OPERATE_SYNCS = "integrations.operate_syncs"


def can_operate(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.has_perm(OPERATE_SYNCS)


def operate_required(request: HttpRequest) -> None:
    """Raise PermissionDenied (403) unless the user may operate syncs."""
    if not can_operate(request):
        raise PermissionDenied


class OperateSyncsMixin:
    """For a ModelAdmin whose actions run syncs: `allowed_permissions=("operate",)`."""

    def has_operate_permission(self, request: HttpRequest) -> bool:
        return can_operate(request)
