"""Finding sync jobs by what ops have in hand: a partner's external id, somebody's email
address, a Salesforce Id, or the job's number.

Jobs point at their object through a generic relation (content type, object id), which
SQL cannot join on. So the search asks each kind of object which of its rows match, as a
subquery, and keeps the jobs whose (content type, object id) is among them: one query,
whatever the number of jobs or objects.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet

from integrations.models import SyncJob, SyncMapping
from integrations.services.choices import salesforce_id_18
from meetings.models import Activity, ActivityParticipant, Attendee, Highlight, Meeting
from scheduler.models import Booking

# 15 characters (as Salesforce's pages show it) or 18 (as its API answers).
SALESFORCE_ID = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")
# A job number beyond the database's integers finds nothing (and must not raise).
BIGGEST_ID = 2**63 - 1


# A subquery of ids: `.values("pk")` and the like.
Ids = QuerySet[Any, Any]


def _of(model: type[models.Model], ids: Ids) -> Q:
    """Jobs about a row of `model` whose id is among `ids` (a subquery)."""
    content_type = ContentType.objects.get_for_model(model)
    return Q(content_type_id=content_type.pk, object_id__in=ids)


def _by_object(term: str, *, loose: bool) -> Q:
    """Jobs about a meeting (or its highlights, attendees), an activity (or its
    participants) or a booking with this external id (any case). `loose` also finds
    email addresses containing the term (a whole address, or a domain such as
    "initech.example") and titles containing it."""
    meetings = Q(external_id__iexact=term)
    activities = Q(external_id__iexact=term)
    participants = Q(phone=term)
    bookings = Q(external_id__iexact=term)
    if loose:
        attendees = Attendee.objects.filter(email__icontains=term).values("meeting_id")
        meetings |= Q(title__icontains=term) | Q(organizer_email__icontains=term)
        meetings |= Q(pk__in=attendees)
        participants |= Q(email__icontains=term)
        activities |= Q(subject__icontains=term)
        bookings |= Q(title__icontains=term) | Q(host_email__icontains=term)
        bookings |= Q(guest_email__icontains=term)
    meeting_ids = Meeting.objects.filter(meetings).values("pk")
    activities |= Q(pk__in=ActivityParticipant.objects.filter(participants).values("activity_id"))
    activity_ids = Activity.objects.filter(activities).values("pk")
    return (
        _of(Meeting, meeting_ids)
        | _of(Highlight, Highlight.objects.filter(meeting_id__in=meeting_ids).values("pk"))
        | _of(Attendee, Attendee.objects.filter(meeting_id__in=meeting_ids).values("pk"))
        | _of(Activity, activity_ids)
        | _of(
            ActivityParticipant,
            ActivityParticipant.objects.filter(
                participants | Q(activity_id__in=activity_ids)
            ).values("pk"),
        )
        | _of(Booking, Booking.objects.filter(bookings).values("pk"))
    )


def _by_salesforce_id(term: str) -> Q:
    """Jobs whose object (or a part of it a meeting's or an activity's job writes: its
    highlights, attendees, participants) has this record, and jobs that offered it as a
    candidate or were told to link to it. A 15-character Id finds its 18-character form."""
    # A 15-character Id is case-sensitive ("abc" and "ABC" are two records); its
    # 18-character form is not, so the search compares that form, in any case.
    record_id = salesforce_id_18(term)
    records = SyncMapping.objects.filter(salesforce_id__iexact=record_id)
    same_object = records.filter(
        tenant_id=OuterRef("tenant_id"),
        content_type_id=OuterRef("content_type_id"),
        object_id=OuterRef("object_id"),
    )

    def recorded(model: type[models.Model]) -> Ids:
        content_type = ContentType.objects.get_for_model(model)
        return records.filter(content_type_id=content_type.pk).values("object_id")

    # JSON is searched as text (portable across SQLite and PostgreSQL); the quotes anchor
    # the whole Id.
    quoted = f'"{record_id}"'
    return (
        Exists(same_object)
        | _of(Meeting, Highlight.objects.filter(pk__in=recorded(Highlight)).values("meeting_id"))
        | _of(Meeting, Attendee.objects.filter(pk__in=recorded(Attendee)).values("meeting_id"))
        | _of(
            Activity,
            ActivityParticipant.objects.filter(pk__in=recorded(ActivityParticipant)).values(
                "activity_id"
            ),
        )
        | Q(candidates__icontains=quoted)
        | Q(params__icontains=quoted)
    )


def sync_jobs_matching(jobs: QuerySet[SyncJob], term: str) -> QuerySet[SyncJob]:
    """The jobs among `jobs` that a search for `term` finds:

    1. a number is a job's id, or an external id;
    2. anything else: an external id (exactly, any case), an email address or part of
       one, a title;
    3. something shaped like a Salesforce Id: a record the job's object has, a candidate
       it offered, the record a person chose for it.
    """
    term = term.strip()
    if not term:
        return jobs
    # A number as part of an address or a title would find nearly everything.
    number = term.isascii() and term.isdigit()
    found = _by_object(term, loose=not number)
    if number and int(term) <= BIGGEST_ID:
        found |= Q(pk=int(term))
    if SALESFORCE_ID.match(term):
        found |= _by_salesforce_id(term)
    return jobs.filter(found)
