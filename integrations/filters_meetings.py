"""The meetings list's search and filters: the words a member types, the state in
Salesforce they want to see, and the days the meetings started on (in the tenant's
timezone, which the tenant pages activate)."""

from __future__ import annotations

import django_filters  # type: ignore[import-untyped]
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet

from integrations.meeting_state import SendState
from meetings.models import Attendee, Meeting

# ISO dates, the only format a date input reads back.
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MeetingFilter(django_filters.FilterSet):  # type: ignore[misc]
    """Over `meetings_with_send_state(...)`: the state filter reads its annotation."""

    q = django_filters.CharFilter(
        label="Search",
        method="search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Title, meeting id or attendee email"}
        ),
    )
    state = django_filters.ChoiceFilter(
        label="State in Salesforce",
        field_name="send_state",
        choices=SendState.choices,
        empty_label="Any state",
    )
    start_from = django_filters.DateFilter(
        label="From",
        field_name="start",
        lookup_expr="date__gte",
        widget=DATE_INPUT,
    )
    start_to = django_filters.DateFilter(
        label="To",
        field_name="start",
        lookup_expr="date__lte",
        widget=DATE_INPUT,
    )

    class Meta:
        model = Meeting
        fields: list[str] = []

    def search(self, queryset: QuerySet[Meeting], name: str, value: str) -> QuerySet[Meeting]:
        """A meeting whose title or external id holds the words, or with an attendee
        whose email does (each meeting once, however many attendees match)."""
        value = value.strip()
        if not value:
            return queryset
        attendee = Attendee.objects.filter(meeting=OuterRef("pk"), email__icontains=value)
        return queryset.filter(
            Q(title__icontains=value) | Q(external_id__icontains=value) | Exists(attendee)
        )
