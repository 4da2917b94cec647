"""The workers' task lists (django-q2's admins), made safe for ops.

django-q2 offers "run again" to anyone who can see its task lists, and lets anyone with
change permission edit a schedule's function and arguments: code the worker runs, with
the database and the key to the tenants' tokens. Here "run again" asks for the
permission to operate syncs, and schedules and queued tasks are read-only (the sweeper's
schedule is made by a migration)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django_q.admin import FailAdmin, QueueAdmin, ScheduleAdmin, TaskAdmin, resubmit_task
from django_q.models import Failure, OrmQ, Schedule, Success

from core.admin import ReadOnlyAdminMixin
from integrations.admin.permissions import OperateSyncsMixin


class TaskResubmitMixin(OperateSyncsMixin):
    """django-q2 offers "resubmit" to anyone who can see its task lists."""

    actions = ["resubmit"]

    @admin.action(description="Run the selected tasks again", permissions=["operate"])
    def resubmit(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count = queryset.count()
        # django-q2's own action: it queues each task again (and drops a failed one's
        # row, since its new run records its own result).
        resubmit_task(self, request, queryset)
        self.message_user(request, f"{count} task(s) queued again.")  # type: ignore[attr-defined]


# django-q2 ships untyped, so its admins are `Any` to mypy.
class SuccessfulTaskAdmin(TaskResubmitMixin, TaskAdmin):  # type: ignore[misc]
    pass


class FailedTaskAdmin(TaskResubmitMixin, FailAdmin):  # type: ignore[misc]
    pass


TASK_ADMINS: dict[type[models.Model], type[admin.ModelAdmin[Any]]] = {
    Success: SuccessfulTaskAdmin,
    Failure: FailedTaskAdmin,
}


class ScheduleReadOnlyAdmin(ReadOnlyAdminMixin, ScheduleAdmin):  # type: ignore[misc]
    actions = None


class QueueReadOnlyAdmin(ReadOnlyAdminMixin, QueueAdmin):  # type: ignore[misc]
    actions = None


TASK_ADMINS[Schedule] = ScheduleReadOnlyAdmin
TASK_ADMINS[OrmQ] = QueueReadOnlyAdmin


def task_admins_register() -> None:
    for model, model_admin in TASK_ADMINS.items():
        if admin.site.is_registered(model):
            admin.site.unregister(model)
        admin.site.register(model, model_admin)
