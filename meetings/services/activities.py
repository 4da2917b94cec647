"""Writes to activities (calls, conferences, tasks) and their participants."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from core.errors import InvalidInput
from core.services import row_claim
from meetings import events
from meetings.models import Activity, ActivityParticipant
from meetings.services.people import PersonInput
from tenants.emails import email_normalise
from tenants.models import Tenant


def _participants_clean(participants: list[PersonInput]) -> list[PersonInput]:
    """The participants as stored: normalised email, trimmed phone and name. Refuses a
    participant with neither email nor phone before anything is written."""
    cleaned = []
    for person in participants:
        email, phone = email_normalise(person.email), person.phone.strip()
        if not email and not phone:
            raise InvalidInput(
                "Every participant needs an email address or a phone number.",
                field="participants",
            )
        cleaned.append(PersonInput(email=email, phone=phone, name=person.name.strip()))
    return cleaned


def _participant_rows_match(
    rows: list[ActivityParticipant], people: list[PersonInput]
) -> list[ActivityParticipant | None]:
    """For each incoming person, the existing row that is the same person (or None).

    1. People with an email claim the unclaimed row with that email.
    2. People without one claim an unclaimed row with their phone, preferring a row
       without an email (the likelier same person when both kinds share the number).
    Each row is claimed once, so two people with the same email keep two rows.
    """
    unclaimed = list(rows)
    matched: list[ActivityParticipant | None] = [None] * len(people)

    def claim(index: int, candidates: list[ActivityParticipant]) -> None:
        if candidates:
            matched[index] = candidates[0]
            unclaimed.remove(candidates[0])

    for index, person in enumerate(people):
        if person.email:
            claim(index, [row for row in unclaimed if row.email == person.email])
    for index, person in enumerate(people):
        if not person.email:
            by_phone = [row for row in unclaimed if row.phone == person.phone]
            claim(index, sorted(by_phone, key=lambda row: bool(row.email)))
    return matched


def _participants_replace(activity: Activity, participants: list[PersonInput]) -> bool:
    """Make the participant list exactly `participants`, in place; True when it changed.

    A person who stays keeps their row: sync mappings (the Salesforce Task logged for a
    participant, the Lead made from one) are keyed on the row's id, so replacing the
    rows would lose them and Salesforce would get a second Task. Matched rows get the
    new name, phone and email; new people get new rows; people no longer listed lose
    theirs. The order they are sent in is not stored (rows list by id), so a reordered
    list is no change.
    """
    people = _participants_clean(participants)
    rows = list(activity.participants.all())
    matched = _participant_rows_match(rows, people)
    changed = False
    new_rows = []
    for person, row in zip(people, matched, strict=True):
        if row is None:
            new_rows.append(
                ActivityParticipant(
                    activity=activity, email=person.email, phone=person.phone, name=person.name
                )
            )
            continue
        fields = [f for f in ("email", "phone", "name") if getattr(row, f) != getattr(person, f)]
        if fields:
            row.email, row.phone, row.name = person.email, person.phone, person.name
            row.save(update_fields=fields)
            changed = True
    kept = {row.pk for row in matched if row is not None}
    gone = [row.pk for row in rows if row.pk not in kept]
    if gone:
        ActivityParticipant.objects.filter(pk__in=gone).delete()
    if new_rows:
        ActivityParticipant.objects.bulk_create(new_rows)
    return changed or bool(gone) or bool(new_rows)


@transaction.atomic
def activity_upsert(
    *,
    tenant: Tenant,
    external_id: str,
    kind: str,
    started_at: dt.datetime,
    logged_by_email: str,
    participants: list[PersonInput],
    direction: str = "",
    duration_seconds: int = 0,
    subject: str = "",
    notes: str = "",
    logged_by_name: str = "",
) -> tuple[Activity, bool]:
    """Create or edit a call, conference or task, keyed by the partner's external id."""
    if kind == Activity.Kind.CALL and direction not in Activity.Direction.values:
        raise InvalidInput("A call needs a direction: inbound or outbound.", field="direction")
    if kind != Activity.Kind.CALL and direction:
        raise InvalidInput("Only calls have a direction.", field="direction")
    if not participants:
        raise InvalidInput("An activity needs at least one participant.", field="participants")
    values = {
        "kind": kind,
        "direction": direction,
        "started_at": started_at,
        "duration_seconds": duration_seconds,
        "subject": subject,
        "notes": notes,
        "logged_by_email": email_normalise(logged_by_email),
        "logged_by_name": logged_by_name.strip(),
    }
    fresh = Activity(tenant=tenant, external_id=external_id, **values)
    activity, created = row_claim(fresh, tenant=tenant, external_id=external_id)
    changed = created or any(getattr(activity, k) != v for k, v in values.items())
    if not created:
        for key, value in values.items():
            setattr(activity, key, value)
        activity.save()
    changed = _participants_replace(activity, participants) or changed
    if changed and not created:
        activity.version += 1
        activity.save(update_fields=["version", "updated_at"])
    if changed:
        events.activity_changed.send(sender=Activity, instance=activity)
    return activity, created


def activity_update(*, activity: Activity, **changes: Any) -> Activity:
    """Change the given fields of an activity (a partial update), keeping the rest."""
    values: dict[str, Any] = {
        "kind": activity.kind,
        "direction": activity.direction,
        "started_at": activity.started_at,
        "duration_seconds": activity.duration_seconds,
        "subject": activity.subject,
        "notes": activity.notes,
        "logged_by_email": activity.logged_by_email,
        "logged_by_name": activity.logged_by_name,
        "participants": [
            PersonInput(email=p.email, phone=p.phone, name=p.name)
            for p in activity.participants.all()
        ],
    }
    unknown = set(changes) - set(values)
    if unknown:
        raise InvalidInput(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    values.update(changes)
    if "kind" in changes and changes["kind"] != Activity.Kind.CALL and "direction" not in changes:
        values["direction"] = ""
    return activity_upsert(tenant=activity.tenant, external_id=activity.external_id, **values)[0]


def activity_delete(*, activity: Activity) -> None:
    activity.delete()
