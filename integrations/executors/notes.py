"""Planning Notes and Events (SPEC 3.3): created where the match says, updated in place
once they exist, deleted when nothing is left to say, made again where they were."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from integrations.enums import Purpose, SObject
from integrations.executors.base import JobContext, choice_followed
from integrations.models import IntegrationSettings, SyncMapping
from integrations.salesforce import payloads
from integrations.salesforce.matching import Candidate, Directory, Person, event_people
from integrations.salesforce.writer import Ref
from integrations.sync.plan import Parent, Plan, Slot
from meetings.models import Attendee, Highlight, Meeting


def meeting_view(meeting: Meeting) -> payloads.MeetingView:
    return payloads.MeetingView(meeting.external_id, meeting.title, meeting.start, meeting.end)


def highlight_views(highlights: Sequence[Highlight]) -> list[payloads.HighlightView]:
    return [
        payloads.HighlightView(h.text, h.speaker, h.offset_seconds, h.external_id)
        for h in highlights
    ]


def meeting_highlights(meeting: Meeting) -> tuple[list[Highlight], int]:
    """The meeting's current highlights and the auto-sync Note's version, read in one
    query so that they agree: the version grows with every change to any highlight
    (each edit or deletion bumps one; a new highlight adds one). Were they read apart,
    an edit committed in between would be recorded as pushed without being sent."""
    rows = list(meeting.highlights.all())  # the batch's read, when it preloaded them
    return [h for h in rows if not h.is_deleted], sum(h.version for h in rows) + 1


@dataclass(frozen=True)
class NoteSpec:
    """One Note to keep current: whose it is (its slot) and what it holds."""

    name: str
    meeting: Meeting
    highlights: Sequence[Highlight]
    slot: Slot
    version: int
    mapping: SyncMapping | None
    link_mapping: SyncMapping | None
    # The Note's link to the Account of a Lead converted since it was made: planned
    # when the Lead was followed (see `sync.conversions`), made by the next job.
    account_link_mapping: SyncMapping | None = None


def note_plan(
    ctx: JobContext,
    plan: Plan,
    spec: NoteSpec,
    *,
    target: Parent | None = None,
    force: bool = False,
) -> None:
    """Plan the create, update or delete of one Note. Steps:
    1. the Note exists: no highlights left -> delete it; otherwise restore a missing
       link, and update it unless Salesforce holds this version already (or `force`);
    2. it does not exist: create it with its link, at `target` or, when none is given,
       where it was before (a Note deleted with its last highlight, or in Salesforce).
    """
    mapping = spec.mapping
    if mapping is not None and mapping.live:
        if not spec.highlights:
            plan.delete(spec.name, mapping)
            return
        parent = Parent.of_mapping(mapping)
        unlinked = spec.link_mapping is None or not spec.link_mapping.live
        if mapping.salesforce_object == SObject.CONTENT_NOTE and parent is not None and unlinked:
            # An earlier batch made the note but not its link: link it now.
            _link_create(plan, spec, mapping.salesforce_id, parent)
        account = spec.account_link_mapping
        if (
            mapping.salesforce_object == SObject.CONTENT_NOTE
            and account is not None
            and account.state == SyncMapping.State.PLANNED
            and (where := Parent.of_mapping(account)) is not None
        ):
            _link_create(plan, spec, mapping.salesforce_id, where, account=True)
        if mapping.pushed_version >= spec.version and not force:
            return  # Salesforce already holds this version or a newer one
        classic = mapping.salesforce_object == SObject.NOTE
        fields = _note_fields(ctx, plan, spec, parent, classic=classic)
        plan.update(spec.name, mapping, fields, version=spec.version)
        return
    where = target or (Parent.of_mapping(mapping) if mapping is not None else None)
    if where is None:
        return
    if not spec.highlights:
        # Nothing to say yet: the Note's place is kept, so the first highlight added
        # later makes it there (and its change is queued at all).
        placeless = mapping is None or (not mapping.live and not mapping.parent_id)
        if placeless and isinstance(where.id, str):
            classic = ctx.settings.note_flavour == IntegrationSettings.NoteFlavour.CLASSIC_NOTE
            plan.reserve(spec.slot, SObject.NOTE if classic else SObject.CONTENT_NOTE, where)
        return
    classic = ctx.settings.note_flavour == IntegrationSettings.NoteFlavour.CLASSIC_NOTE
    fields = _note_fields(ctx, plan, spec, where, classic=classic)
    if classic:
        fields["ParentId"] = where.id
        plan.create(spec.name, spec.slot, SObject.NOTE, fields, version=spec.version, parent=where)
        return
    note = plan.create(
        spec.name, spec.slot, SObject.CONTENT_NOTE, fields, version=spec.version, parent=where
    )
    _link_create(plan, spec, note, where)


def meeting_page_url(ctx: JobContext, meeting: Meeting) -> str:
    return ctx.page_url("integrations:meeting", meeting.external_id)


def _note_fields(
    ctx: JobContext, plan: Plan, spec: NoteSpec, parent: Parent | None, *, classic: bool
) -> dict[str, Any]:
    """The Note's fields; what had to be cut to fit is noted on the plan (every caller
    writes these fields)."""
    view = meeting_view(spec.meeting)
    highlights = highlight_views(spec.highlights)
    html = payloads.note_html(
        meeting=view,
        highlights=highlights,
        base_url=ctx.settings.link_back_base_url,
        instance_url=ctx.connection.instance_url,
        target_id=parent.id if parent and isinstance(parent.id, str) else "",
        target_name=parent.name if parent else "",
    )
    payload = payloads.note_payload(
        title=payloads.note_title_text(view, highlights),
        html=html,
        classic=classic,
        page_url=meeting_page_url(ctx, spec.meeting),
    )
    plan.cuts.extend(payload.cuts)
    return payload.fields


def _link_create(
    plan: Plan, spec: NoteSpec, note: str | Ref, parent: Parent, *, account: bool = False
) -> None:
    """The Note's link to `parent`: its record, or (`account`) the converted Account."""
    link_purpose = spec.slot.purpose.account_link if account else spec.slot.purpose.link
    assert link_purpose is not None
    slot = Slot(spec.slot.content_type_id, spec.slot.object_id, link_purpose)
    plan.create(
        f"{spec.name}_{'account_link' if account else 'link'}",
        slot,
        SObject.CONTENT_DOCUMENT_LINK,
        {"ContentDocumentId": note, "LinkedEntityId": parent.id, "ShareType": "V"},
        version=spec.version,
        parent=parent,
    )


def meeting_note_spec(
    meeting: Meeting, mappings: dict[tuple[int, Purpose], SyncMapping]
) -> NoteSpec:
    """The auto-sync Note holding all the meeting's highlights."""
    highlights, version = meeting_highlights(meeting)
    return NoteSpec(
        name="note",
        meeting=meeting,
        highlights=highlights,
        slot=Slot.of(meeting, Purpose.MEETING_NOTE),
        version=version,
        mapping=mappings.get((meeting.pk, Purpose.MEETING_NOTE)),
        link_mapping=mappings.get((meeting.pk, Purpose.MEETING_NOTE_LINK)),
        account_link_mapping=mappings.get((meeting.pk, Purpose.MEETING_NOTE_ACCOUNT_LINK)),
    )


def highlight_note_spec(
    meeting: Meeting, highlight: Highlight, mappings: dict[tuple[int, Purpose], SyncMapping]
) -> NoteSpec:
    """The Note of one highlight sent by hand: created, updated, or deleted with it."""
    return NoteSpec(
        name=f"h{highlight.pk}",
        meeting=meeting,
        highlights=[] if highlight.is_deleted else [highlight],
        slot=Slot.of(highlight, Purpose.HIGHLIGHT_NOTE),
        version=highlight.version,
        mapping=mappings.get((highlight.pk, Purpose.HIGHLIGHT_NOTE)),
        link_mapping=mappings.get((highlight.pk, Purpose.HIGHLIGHT_NOTE_LINK)),
        account_link_mapping=mappings.get((highlight.pk, Purpose.HIGHLIGHT_NOTE_ACCOUNT_LINK)),
    )


def event_plan(
    ctx: JobContext,
    plan: Plan,
    *,
    meeting: Meeting,
    mapping: SyncMapping | None,
    target: Parent | None,
    contacts: Sequence[Person] = (),
    leads: Sequence[Person] = (),
) -> None:
    """The meeting's Event: updated once it exists; else created at `target` (or where
    it was), naming the matched people (SPEC 3.3). For a Lead this job followed to its
    conversion, the Event names the converted Contact; an Event that exists was related
    to the converted Opportunity (or Account) by Salesforce when it converted the Lead,
    and keeps that, while a new one is related to them by the portal."""
    if ctx.settings.highlights_destination != IntegrationSettings.Destination.NOTES_AND_EVENTS:
        return
    payload = payloads.event_payload(meeting_view(meeting), page_url=meeting_page_url(ctx, meeting))
    fields: dict[str, Any] = payload.fields
    at = target or (Parent.of_mapping(mapping) if mapping is not None else None)
    moved = ctx.conversion_into(at.id) if at is not None else None
    if moved is not None:
        fields["WhoId"] = moved.contact_id
    if mapping is not None and mapping.live:
        # Jobs of one meeting run one at a time and read its title and times when they
        # run, so the newest always goes out last; the Event carries no version.
        plan.update("event", mapping, fields)
        plan.cuts.extend(payload.cuts)
        _relations_restore(
            ctx, plan, meeting=meeting, event=mapping, contacts=contacts, leads=leads
        )
        return
    where = target or (Parent.of_mapping(mapping) if mapping is not None else None)
    if where is None:
        return
    who, others = event_people(where.candidate(), contacts, leads)
    if where.sobject in (SObject.ACCOUNT, SObject.OPPORTUNITY):
        fields["WhatId"] = where.id
    elif moved is not None and (moved.opportunity_id or moved.account_id):
        fields["WhatId"] = moved.opportunity_id or moved.account_id
    elif where.sobject in (SObject.CONTACT, SObject.LEAD) and not who:
        who = str(where.id)
    if who and "WhoId" not in fields:
        fields["WhoId"] = who
    event = plan.create(
        "event",
        Slot.of(meeting, Purpose.MEETING_EVENT),
        SObject.EVENT,
        fields,
        parent=where,
    )
    plan.cuts.extend(payload.cuts)
    if ctx.connection.shared_activities is False:
        return
    for attendee, contact_id in _relations(meeting, contacts, others):
        plan.create(
            f"event_rel{attendee.pk}",
            Slot.of(attendee, Purpose.EVENT_RELATION),
            SObject.EVENT_RELATION,
            {"EventId": event, "RelationId": contact_id, "IsParent": True, "IsInvitee": False},
            parent=Parent(SObject.EVENT, event),
        )


def _relations(
    meeting: Meeting, contacts: Sequence[Person], others: Sequence[str]
) -> list[tuple[Attendee, str]]:
    """The Event's further people as (attendee, Contact Id): one per attendee, so an
    address that matches two Contacts relates the first (one row per attendee)."""
    attendees = {a.email: a for a in meeting.attendees.all()}
    by_id = {p.id: p for p in contacts}
    related: dict[int, tuple[Attendee, str]] = {}
    for contact_id in others:
        person = by_id.get(contact_id)
        attendee = attendees.get(person.email) if person is not None else None
        if attendee is not None and attendee.pk not in related:
            related[attendee.pk] = (attendee, contact_id)
    return list(related.values())


def _relations_restore(
    ctx: JobContext,
    plan: Plan,
    *,
    meeting: Meeting,
    event: SyncMapping,
    contacts: Sequence[Person],
    leads: Sequence[Person],
) -> None:
    """An earlier batch made the Event but not all its relations (their create was
    refused and planned again): make those now, as a Note's missing link is."""
    where = Parent.of_mapping(event)
    if where is None or not contacts or ctx.connection.shared_activities is False:
        return
    _, others = event_people(where.candidate(), contacts, leads)
    pairs = _relations(meeting, contacts, others)
    rows = ctx.mappings(Attendee, [a.pk for a, _ in pairs])
    for attendee, contact_id in pairs:
        row = rows.get((attendee.pk, Purpose.EVENT_RELATION))
        if row is None or row.state != SyncMapping.State.PLANNED:
            continue
        plan.create(
            f"event_rel{attendee.pk}",
            Slot.of(attendee, Purpose.EVENT_RELATION),
            SObject.EVENT_RELATION,
            {
                "EventId": event.salesforce_id,
                "RelationId": contact_id,
                "IsParent": True,
                "IsInvitee": False,
            },
            parent=Parent(SObject.EVENT, event.salesforce_id),
        )


def target_of(chosen: dict[str, Any], directory: Directory) -> Parent:
    """A record a person chose (job params), as a Parent; a Lead converted since the
    choice, as the Contact it became (see `choice_followed`)."""
    followed = choice_followed(chosen, directory) or chosen
    return Parent.of(Candidate(followed["object"], followed["id"], followed.get("name", "")))
