"""The filters of the calls and bookings lists: a search box, a few choices and a date
range, over rows that already carry their Salesforce state (`integrations.activity_state`).

Dates are days in the active timezone (the tenant's, on a tenant page): "from 3 May"
means from midnight of 3 May there, not in UTC."""

from __future__ import annotations

from typing import Any

# django-filter ships no type information: its classes are Any to mypy.
import django_filters  # type: ignore[import-untyped]
from django import forms
from django.db.models import Q, QuerySet

from integrations.activity_state import LogState
from meetings.models import Activity, ActivityParticipant
from scheduler.models import Booking

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _search_box(placeholder: str) -> forms.TextInput:
    return forms.TextInput(attrs={"type": "search", "placeholder": placeholder})


def _day_from(field: str) -> Any:
    return django_filters.DateFilter(
        field_name=field, lookup_expr="date__gte", label="From", widget=DATE_INPUT
    )


def _day_to(field: str) -> Any:
    return django_filters.DateFilter(
        field_name=field, lookup_expr="date__lte", label="To", widget=DATE_INPUT
    )


class _InSalesforceFilter(django_filters.FilterSet):  # type: ignore[misc]
    """What calls and bookings are filtered by alike: their state in Salesforce."""

    state = django_filters.ChoiceFilter(
        field_name="log_state",
        choices=LogState.choices,
        empty_label="Any state",
        label="In Salesforce",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Shown after the list's own choices, just before the dates.
        declared: dict[str, Any] = self.filters  # type: ignore[has-type]
        names = [name for name in declared if name != "state"]
        names.insert(names.index("since"), "state")
        self.filters = {name: declared[name] for name in names}


class CallFilter(_InSalesforceFilter):
    q = django_filters.CharFilter(
        method="search", label="Search", widget=_search_box("Email, phone or call id")
    )
    kind = django_filters.ChoiceFilter(choices=Activity.Kind.choices, empty_label="Any kind")
    direction = django_filters.ChoiceFilter(
        choices=Activity.Direction.choices, empty_label="Either direction"
    )
    since = _day_from("started_at")
    until = _day_to("started_at")

    class Meta:
        model = Activity
        fields: list[str] = []

    def search(self, rows: QuerySet[Activity], name: str, value: str) -> QuerySet[Activity]:
        """A participant's email or phone number, or the call's id in the partner's
        product. A subquery rather than a join, so no call shows twice."""
        text = value.strip()
        if not text:
            return rows
        people = ActivityParticipant.objects.filter(
            Q(email__icontains=text) | Q(phone__icontains=text)
        ).values("activity_id")
        return rows.filter(Q(external_id__icontains=text) | Q(pk__in=people))


class BookingFilter(_InSalesforceFilter):
    q = django_filters.CharFilter(
        method="search", label="Search", widget=_search_box("Guest, host, title or id")
    )
    status = django_filters.ChoiceFilter(
        choices=Booking.Status.choices, empty_label="Any status", label="Booking"
    )
    since = _day_from("start")
    until = _day_to("start")

    class Meta:
        model = Booking
        fields: list[str] = []

    def search(self, rows: QuerySet[Booking], name: str, value: str) -> QuerySet[Booking]:
        """The guest's or host's email, the title, or the booking's id in the scheduler."""
        text = value.strip()
        if not text:
            return rows
        return rows.filter(
            Q(guest_email__icontains=text)
            | Q(guest_name__icontains=text)
            | Q(host_email__icontains=text)
            | Q(title__icontains=text)
            | Q(external_id__icontains=text)
        )


def filters_active(filterset: Any) -> bool:
    """Whether the person narrowed the list (to say "no match" rather than "none yet")."""
    data = filterset.form.data if filterset.is_bound else {}
    return any(str(data.get(name, "")).strip() for name in filterset.filters)
