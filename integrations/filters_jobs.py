"""The sync log's filters: a job's state, what it asked, the meeting it is about, the days
it was queued on (in the active timezone, the tenant's on a tenant page) and free text.

The query parameters are the page's addresses: the overview links to
`/sync/?state=needs_review` and `/sync/?state=failed`, a job's page to
`/sync/?meeting=<meeting id>`."""

from __future__ import annotations

import functools
import operator

# django-filter ships no type information: its classes are Any to mypy.
import django_filters  # type: ignore[import-untyped]
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from integrations.enums import Operation
from integrations.job_search import sync_jobs_matching
from integrations.models import SyncJob
from meetings.models import Attendee, Highlight, Meeting

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def jobs_about_meetings(meetings: QuerySet[Meeting]) -> Q:
    """Jobs about one of `meetings` (a subquery), its highlights or its attendees."""
    ids = meetings.values("pk")
    parts = (
        (Meeting, ids),
        (Highlight, Highlight.objects.filter(meeting_id__in=ids).values("pk")),
        (Attendee, Attendee.objects.filter(meeting_id__in=ids).values("pk")),
    )
    return functools.reduce(
        operator.or_,
        (
            Q(content_type_id=ContentType.objects.get_for_model(model).pk, object_id__in=object_ids)
            for model, object_ids in parts
        ),
    )


class SyncJobFilter(django_filters.FilterSet):  # type: ignore[misc]
    """Over a tenant's jobs (`selectors.sync_job_log`): every filter narrows within them."""

    state = django_filters.ChoiceFilter(
        choices=SyncJob.State.choices, empty_label="Any state", label="State"
    )
    operation = django_filters.ChoiceFilter(
        choices=Operation.choices, empty_label="Anything", label="What"
    )
    meeting = django_filters.CharFilter(
        method="about_meeting",
        label="Meeting",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Title or meeting id"}),
    )
    since = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label="From", widget=DATE_INPUT
    )
    until = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label="To", widget=DATE_INPUT
    )
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Email, title or Id"}),
    )

    class Meta:
        model = SyncJob
        fields: list[str] = []

    def about_meeting(self, jobs: QuerySet[SyncJob], name: str, value: str) -> QuerySet[SyncJob]:
        """Jobs of the meetings whose title holds the words or whose id is the value."""
        text = value.strip()
        if not text:
            return jobs
        meetings = Meeting.objects.filter(Q(title__icontains=text) | Q(external_id__iexact=text))
        return jobs.filter(jobs_about_meetings(meetings))

    def search(self, jobs: QuerySet[SyncJob], name: str, value: str) -> QuerySet[SyncJob]:
        """What ops search by too: a job's number, an external id, an email address or
        part of one, a title, a Salesforce Id (see `job_search`)."""
        return sync_jobs_matching(jobs, value)


def filters_narrow(found: SyncJobFilter) -> bool:
    """Whether the person narrowed the log (to say "no job matches" rather than "none
    yet")."""
    data = found.form.cleaned_data if found.form.is_valid() else {}
    return any(value not in (None, "") for value in data.values())
