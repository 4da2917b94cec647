"""What each kind of sync job writes (SPEC 3.1 to 3.6). Each executor reads the
current local state when the job runs (never a payload captured earlier), names the
addresses to look up, and turns the lookup into writes and mappings; the engine does
the HTTP, the recording and the retries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from integrations import operations
from integrations.engine import (
    Executor,
    Finish,
    JobRun,
    MappingWrite,
    executor_register,
)
from integrations.models import IntegrationSettings, MatchChoice, SyncJob, SyncMapping
from integrations.salesforce import payloads
from integrations.salesforce.matching import (
    Candidate,
    Directory,
    Person,
    activity_people,
    auto_match,
    event_people,
    external_emails,
    manual_match,
    task_owner,
)
from integrations.salesforce.writer import Ref, Write
from meetings.models import Activity, ActivityParticipant, Attendee, Highlight, Meeting
from scheduler.models import Booking

State = SyncJob.State

# Mapping purposes: what a Salesforce record is for, per local object.
MEETING_NOTE = "meeting_note"  # the auto-sync Note holding all highlights
MEETING_NOTE_LINK = "meeting_note_link"
MEETING_EVENT = "meeting_event"
EVENT_RELATION = "event_relation"  # on an Attendee
HIGHLIGHT_NOTE = "highlight_note"  # a Note sent by hand for one highlight
HIGHLIGHT_NOTE_LINK = "highlight_note_link"
CREATED_ACCOUNT = "created_account"
CREATED_OPPORTUNITY = "created_opportunity"
ATTENDEE_CONTACT = "contact"
ATTENDEE_CONTACT_ROLE = "opportunity_contact_role"
ACTIVITY_TASK = "activity_task"  # on an ActivityParticipant
PARTICIPANT_LEAD = "lead"
BOOKING_TASK = "booking_task"


def ct(model: type[models.Model]) -> int:
    return ContentType.objects.get_for_model(model).pk


def mappings_for(run: JobRun, model: type[models.Model], ids: Sequence[int]) -> dict:
    """(object id, purpose) -> mapping, for records we still hold in Salesforce."""
    rows = SyncMapping.objects.filter(
        tenant=run.tenant,
        content_type_id=ct(model),
        object_id__in=list(ids),
        state=SyncMapping.State.SYNCED,
    )
    return {(m.object_id, m.purpose): m for m in rows}


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
    rows = list(Highlight.objects.filter(meeting=meeting))
    return [h for h in rows if not h.is_deleted], sum(h.version for h in rows) + 1


def external_attendees(meeting: Meeting) -> list[str]:
    return external_emails(
        meeting.attendees.values_list("email", flat=True), meeting.tenant.internal_domains
    )


# --- Notes and Events (SPEC 3.3) ------------------------------------------------------------


def note_writes(
    run: JobRun,
    *,
    name: str,
    meeting: Meeting,
    highlights: Sequence[Highlight],
    local: tuple[int, int],
    purposes: tuple[str, str],
    version: int,
    target: Candidate | None,
    target_ref: str | Ref = "",
    mapping: SyncMapping | None,
    force: bool = False,
) -> None:
    """Plan the create, update or delete of one Note for these highlights."""
    note_purpose, link_purpose = purposes
    if mapping is not None and not mapping.salesforce_id:
        # Deleted in Salesforce: create it again where it was.
        target = Candidate(mapping.parent_object, mapping.parent_id, mapping.parent_name)
        mapping = None
    if mapping is not None:
        if not highlights:
            run.writes.append(
                Write(
                    run.key(name),
                    run.key(""),
                    "delete",
                    mapping.salesforce_object,
                    salesforce_id=mapping.salesforce_id,
                )
            )
            run.mapping_writes.append(
                MappingWrite(
                    run.key(name), *local, note_purpose, mapping.salesforce_object, remove=True
                )
            )
            return
        if mapping.salesforce_object == "ContentNote" and not _linked(run, mapping, link_purpose):
            _link_restore(run, name, mapping, link_purpose, version)
        if mapping.pushed_version >= version and not force:
            return  # Salesforce already holds this version or a newer one
        classic = mapping.salesforce_object == "Note"
        html = payloads.note_html(
            meeting=meeting_view(meeting),
            highlights=highlight_views(highlights),
            base_url=run.settings.link_back_base_url,
            instance_url=run.connection.instance_url,
            target_id=mapping.parent_id,
            target_name=mapping.parent_name,
        )
        title = payloads.note_title(
            meeting_view(meeting), highlight_views(highlights), classic=classic
        )
        fields = (payloads.classic_note_fields if classic else payloads.content_note_fields)(
            title, html
        )
        run.writes.append(
            Write(
                run.key(name),
                run.key(""),
                "update",
                mapping.salesforce_object,
                fields,
                salesforce_id=mapping.salesforce_id,
            )
        )
        run.mapping_writes.append(
            MappingWrite(
                run.key(name),
                *local,
                note_purpose,
                mapping.salesforce_object,
                version,
                mapping.parent_object,
                mapping.parent_id,
                mapping.parent_name,
            )
        )
        return
    if not highlights or target is None:
        return
    classic = run.settings.note_flavour == IntegrationSettings.NoteFlavour.CLASSIC_NOTE
    parent: str | Ref = target_ref or target.id
    html = payloads.note_html(
        meeting=meeting_view(meeting),
        highlights=highlight_views(highlights),
        base_url=run.settings.link_back_base_url,
        instance_url=run.connection.instance_url,
        target_id=target.id if not isinstance(parent, Ref) else "",
        target_name=target.name,
    )
    title = payloads.note_title(meeting_view(meeting), highlight_views(highlights), classic=classic)
    key = run.key(name)
    if classic:
        fields: dict[str, Any] = payloads.classic_note_fields(title, html)
        fields["ParentId"] = parent
        run.writes.append(Write(key, run.key(""), "create", "Note", fields))
        run.mapping_writes.append(
            MappingWrite(
                key, *local, note_purpose, "Note", version, target.sobject, parent, target.name
            )
        )
        return
    run.writes.append(
        Write(key, run.key(""), "create", "ContentNote", payloads.content_note_fields(title, html))
    )
    run.writes.append(
        Write(
            key + "_link",
            run.key(""),
            "create",
            "ContentDocumentLink",
            {
                "ContentDocumentId": Ref(key),
                "LinkedEntityId": parent,
                "ShareType": "V",
            },
        )
    )
    run.mapping_writes.append(
        MappingWrite(
            key, *local, note_purpose, "ContentNote", version, target.sobject, parent, target.name
        )
    )
    run.mapping_writes.append(
        MappingWrite(
            key + "_link",
            *local,
            link_purpose,
            "ContentDocumentLink",
            version,
            target.sobject,
            parent,
            target.name,
        )
    )


def meeting_note_writes(
    run: JobRun,
    meeting: Meeting,
    highlights: Sequence[Highlight],
    version: int,
    mapping: SyncMapping | None,
    *,
    target: Candidate | None = None,
    force: bool = False,
) -> None:
    """The auto-sync Note holding all the meeting's highlights (from `meeting_highlights`,
    which reads them and their version together)."""
    note_writes(
        run,
        name="note",
        meeting=meeting,
        highlights=highlights,
        local=(ct(Meeting), meeting.pk),
        purposes=(MEETING_NOTE, MEETING_NOTE_LINK),
        version=version,
        target=target,
        mapping=mapping,
        force=force,
    )


def highlight_note_writes(
    run: JobRun,
    meeting: Meeting,
    highlight: Highlight,
    mapping: SyncMapping | None,
    *,
    target: Candidate | None = None,
    target_ref: str | Ref = "",
    force: bool = False,
) -> None:
    """The Note of one highlight sent by hand: created, updated, or deleted with it."""
    note_writes(
        run,
        name=f"h{highlight.pk}",
        meeting=meeting,
        highlights=[] if highlight.is_deleted else [highlight],
        local=(ct(Highlight), highlight.pk),
        purposes=(HIGHLIGHT_NOTE, HIGHLIGHT_NOTE_LINK),
        version=highlight.version,
        target=target,
        target_ref=target_ref,
        mapping=mapping,
        force=force,
    )


def _link_restore(
    run: JobRun, name: str, mapping: SyncMapping, link_purpose: str, version: int
) -> None:
    """An earlier run made the note but not its link (a batch in which the link's
    request failed): link it now, whatever else is up to date."""
    key = run.key(name) + "_link"
    run.writes.append(
        Write(
            key,
            run.key(""),
            "create",
            "ContentDocumentLink",
            {
                "ContentDocumentId": mapping.salesforce_id,
                "LinkedEntityId": mapping.parent_id,
                "ShareType": "V",
            },
        )
    )
    run.mapping_writes.append(
        MappingWrite(
            key,
            mapping.content_type_id,
            mapping.object_id,
            link_purpose,
            "ContentDocumentLink",
            version,
            mapping.parent_object,
            mapping.parent_id,
            mapping.parent_name,
        )
    )


def _linked(run: JobRun, note: SyncMapping, link_purpose: str) -> bool:
    return SyncMapping.objects.filter(
        tenant=run.tenant,
        content_type_id=note.content_type_id,
        object_id=note.object_id,
        purpose=link_purpose,
        state=SyncMapping.State.SYNCED,
    ).exists()


def event_writes(
    run: JobRun,
    *,
    meeting: Meeting,
    target: Candidate | None,
    target_ref: str | Ref = "",
    contacts: Sequence[Person],
    leads: Sequence[Person],
    mapping: SyncMapping | None,
) -> None:
    if run.settings.highlights_destination != IntegrationSettings.Destination.NOTES_AND_EVENTS:
        return
    fields: dict[str, Any] = payloads.event_fields(meeting_view(meeting))
    key = run.key("event")
    local = (ct(Meeting), meeting.pk)
    if mapping is not None and not mapping.salesforce_id:
        target = Candidate(mapping.parent_object, mapping.parent_id, mapping.parent_name)
        mapping = None
    if mapping is not None:
        run.writes.append(
            Write(key, run.key(""), "update", "Event", fields, salesforce_id=mapping.salesforce_id)
        )
        run.mapping_writes.append(
            MappingWrite(
                key,
                *local,
                MEETING_EVENT,
                "Event",
                0,
                mapping.parent_object,
                mapping.parent_id,
                mapping.parent_name,
            )
        )
        return
    if target is None:
        return
    who, others = event_people(target, contacts, leads)
    parent: str | Ref = target_ref or target.id
    if target.sobject in ("Account", "Opportunity"):
        fields["WhatId"] = parent
    if who:
        fields["WhoId"] = who
    run.writes.append(Write(key, run.key(""), "create", "Event", fields))
    run.mapping_writes.append(
        MappingWrite(key, *local, MEETING_EVENT, "Event", 0, target.sobject, parent, target.name)
    )
    if run.connection.shared_activities is False:
        return
    attendees = {a.email: a for a in meeting.attendees.all()}
    by_id = {p.id: p for p in contacts}
    for index, contact_id in enumerate(others):
        relation_key = f"{key}_rel{index}"
        run.writes.append(
            Write(
                relation_key,
                run.key(""),
                "create",
                "EventRelation",
                {
                    "EventId": Ref(key),
                    "RelationId": contact_id,
                    "IsParent": True,
                    "IsInvitee": False,
                },
            )
        )
        attendee = attendees.get(by_id[contact_id].email) if contact_id in by_id else None
        if attendee is not None:
            run.mapping_writes.append(
                MappingWrite(
                    relation_key, ct(Attendee), attendee.pk, EVENT_RELATION, "EventRelation"
                )
            )


# --- meeting.processed: auto-sync (SPEC 3.2) ------------------------------------------------


class MeetingAutoSync(Executor):
    def prepare(self, run: JobRun) -> None:
        meeting = Meeting.objects.filter(pk=run.job.object_id, tenant=run.tenant).first()
        if meeting is None:
            return run.done(State.SKIPPED, "The meeting was deleted before it was synced.")
        if not run.settings.auto_sync and not run.job.params.get("target"):
            return run.done(
                State.SKIPPED,
                "Auto-sync is off for this tenant; send highlights by hand or turn auto-sync on.",
            )
        emails = external_attendees(meeting)
        if not emails:
            return run.done(
                State.SKIPPED,
                "The meeting has no attendee outside the tenant's "
                "domains, so there is nobody to match in Salesforce.",
            )
        run.state = {"meeting": meeting, "emails": emails}
        run.people_emails.update(emails)

    def plan(self, run: JobRun, directory: Directory) -> None:
        meeting: Meeting = run.state["meeting"]
        emails = run.state["emails"]
        found = auto_match(directory, emails, run.settings.auto_sync_match_order)
        chosen = run.job.params.get("target")
        mappings = mappings_for(run, Meeting, [meeting.pk])
        note_mapping = mappings.get((meeting.pk, MEETING_NOTE))
        if chosen:
            target = Candidate(chosen["object"], chosen["id"], chosen.get("name", ""))
            why = f"Linked to the {target.sobject} chosen by a person ({target.name or target.id})."
        elif note_mapping is not None:
            target = Candidate(
                note_mapping.parent_object, note_mapping.parent_id, note_mapping.parent_name
            )
            why = f"Updated the records already linked to {target.sobject} {target.name}."
        elif found.ambiguous:
            names = ", ".join(c.name or c.id for c in found.candidates)
            return run.done(
                State.NEEDS_REVIEW,
                f"Several {found.level} records match the attendees ({names}); auto-sync "
                "does not guess. Choose one to finish the sync.",
                candidates=[c.as_dict() for c in found.candidates],
            )
        elif found.target is None:
            return run.done(
                State.SKIPPED,
                "No Account, Opportunity, Lead or Contact in Salesforce matches the external "
                f"attendees ({', '.join(emails)}). Auto-sync never creates records; send "
                "the highlights by hand to create an Account.",
            )
        else:
            target = found.target
            why = (
                f"Linked to {target.sobject} {target.name or target.id}, the first match in "
                f"the order {', '.join(run.settings.auto_sync_match_order)}."
            )
        highlights, version = meeting_highlights(meeting)
        meeting_note_writes(run, meeting, highlights, version, note_mapping, target=target)
        event_writes(
            run,
            meeting=meeting,
            target=target,
            contacts=found.contacts,
            leads=found.leads,
            mapping=mappings.get((meeting.pk, MEETING_EVENT)),
        )
        if not highlights:
            why += " The meeting has no highlights, so no Note was written."
        run.success = Finish(State.SUCCEEDED, why)


# --- highlight.sync and meeting.sync: edits flow into what is already there (SPEC 3.4) -----


class HighlightPropagate(Executor):
    def prepare(self, run: JobRun) -> None:
        highlight = Highlight.objects.filter(pk=run.job.object_id, tenant=run.tenant).first()
        if highlight is None:
            return run.done(State.SKIPPED, "The highlight no longer exists.")
        own = mappings_for(run, Highlight, [highlight.pk]).get((highlight.pk, HIGHLIGHT_NOTE))
        shared = mappings_for(run, Meeting, [highlight.meeting_id]).get(
            (highlight.meeting_id, MEETING_NOTE)
        )
        if own is None and shared is None:
            return run.done(
                State.SKIPPED,
                "This highlight is not in Salesforce yet; its "
                "changes flow there once it is sent or auto-synced.",
            )
        run.state = {"highlight": highlight, "own": own, "shared": shared}

    def plan(self, run: JobRun, directory: Directory) -> None:
        highlight: Highlight = run.state["highlight"]
        meeting = highlight.meeting
        if run.state["own"] is not None:
            highlight_note_writes(run, meeting, highlight, run.state["own"])
        if run.state["shared"] is not None:
            highlights, version = meeting_highlights(meeting)
            meeting_note_writes(run, meeting, highlights, version, run.state["shared"])
        what = "removed from" if highlight.is_deleted else "updated in"
        run.success = Finish(
            State.SUCCEEDED,
            f"Highlight version {highlight.version} {what} Salesforce."
            if run.writes
            else f"Salesforce already holds highlight version {highlight.version} or newer.",
        )


class MeetingPropagate(Executor):
    def prepare(self, run: JobRun) -> None:
        meeting = Meeting.objects.filter(pk=run.job.object_id, tenant=run.tenant).first()
        if meeting is None:
            return run.done(State.SKIPPED, "The meeting no longer exists.")
        mappings = mappings_for(run, Meeting, [meeting.pk])
        highlights, version = meeting_highlights(meeting)
        own = mappings_for(run, Highlight, [h.pk for h in highlights])
        if not mappings and not own:
            return run.done(
                State.SKIPPED, "The meeting is not in Salesforce yet; nothing to update."
            )
        run.state = {
            "meeting": meeting,
            "mappings": mappings,
            "highlights": highlights,
            "version": version,
            "own": own,
        }

    def plan(self, run: JobRun, directory: Directory) -> None:
        meeting: Meeting = run.state["meeting"]
        mappings = run.state["mappings"]
        event = mappings.get((meeting.pk, MEETING_EVENT))
        if event is not None:
            event_writes(run, meeting=meeting, target=None, contacts=[], leads=[], mapping=event)
        meeting_note_writes(
            run,
            meeting,
            run.state["highlights"],
            run.state["version"],
            mappings.get((meeting.pk, MEETING_NOTE)),
            force=True,
        )
        for highlight in run.state["highlights"]:
            highlight_note_writes(
                run,
                meeting,
                highlight,
                run.state["own"].get((highlight.pk, HIGHLIGHT_NOTE)),
                force=True,
            )
        run.success = Finish(State.SUCCEEDED, "The meeting's new title and time are in Salesforce.")


# --- highlights.send: manual sync (SPEC 3.1) --------------------------------------------------


class HighlightsSend(Executor):
    def prepare(self, run: JobRun) -> None:
        meeting = Meeting.objects.filter(pk=run.job.object_id, tenant=run.tenant).first()
        if meeting is None:
            return run.done(State.SKIPPED, "The meeting was deleted before it was sent.")
        wanted = run.job.params.get("highlights", [])
        highlights = list(
            Highlight.objects.filter(meeting=meeting, external_id__in=wanted, is_deleted=False)
        )
        if not highlights:
            return run.done(State.SKIPPED, "None of the chosen highlights exists any more.")
        emails = external_attendees(meeting)
        run.state = {"meeting": meeting, "highlights": highlights, "emails": emails}
        run.people_emails.update(emails)

    def plan(self, run: JobRun, directory: Directory) -> None:
        meeting: Meeting = run.state["meeting"]
        emails: list[str] = run.state["emails"]
        params = run.job.params
        found = manual_match(directory, emails)
        target_ref: str | Ref = ""
        if params.get("target"):
            chosen = params["target"]
            target = Candidate(chosen["object"], chosen["id"], chosen.get("name", ""))
        else:
            if found.situation in ("match", "several"):
                # SPEC 3.1 creates an Account only when the Contacts belong to none (or
                # nobody matches); moving Contacts away from their Account is not ours.
                names = ", ".join(c.name or c.id for c in found.candidates)
                return run.done(
                    State.NEEDS_REVIEW,
                    f"The attendees' Contacts already belong to {names}; choose one of them "
                    "(or another record) instead of creating an Account.",
                    candidates=[c.as_dict() for c in found.candidates],
                )
            create = params.get("create") or {}
            target, target_ref = self._create_organisation(
                run, meeting, create, found.contacts, emails, directory
            )
            # The Notes are written before the new record's Id is known: once it is,
            # they are rendered again with their link to it.
            run.after_success.append(lambda ids, meeting=meeting: _notes_relink(meeting))
        own = mappings_for(run, Highlight, [h.pk for h in run.state["highlights"]])
        for highlight in run.state["highlights"]:
            highlight_note_writes(
                run,
                meeting,
                highlight,
                own.get((highlight.pk, HIGHLIGHT_NOTE)),
                target=target,
                target_ref=target_ref,
            )
        meeting_maps = mappings_for(run, Meeting, [meeting.pk])
        if (meeting.pk, MEETING_EVENT) not in meeting_maps:
            contacts = list(found.contacts) if not target_ref else []
            event_writes(
                run,
                meeting=meeting,
                target=target,
                target_ref=target_ref,
                contacts=contacts,
                leads=[],
                mapping=None,
            )
        count = len(run.state["highlights"])
        run.success = Finish(
            State.SUCCEEDED,
            f"{count} highlight(s) sent as Notes to {target.sobject} {target.name or target.id}.",
        )

    def _create_organisation(
        self,
        run: JobRun,
        meeting: Meeting,
        create: dict[str, Any],
        contacts: Sequence[Person],
        emails: Sequence[str],
        directory: Directory,
    ) -> tuple[Candidate, Ref]:
        """Situations 2 and 4: create the Account (and Opportunity), link the matched
        Contacts to it, create Contacts for the unmatched external attendees."""
        meeting_local = (ct(Meeting), meeting.pk)
        existing = mappings_for(run, Meeting, [meeting.pk])
        account_name = create["account_name"]
        account_key = run.key("account")
        account_map = existing.get((meeting.pk, CREATED_ACCOUNT))
        if account_map is not None:
            account: str | Ref = account_map.salesforce_id
        else:
            run.writes.append(
                Write(account_key, run.key(""), "create", "Account", {"Name": account_name})
            )
            run.mapping_writes.append(
                MappingWrite(account_key, *meeting_local, CREATED_ACCOUNT, "Account")
            )
            account = Ref(account_key)
        target = Candidate("Account", "", account_name)
        target_ref: str | Ref = account
        opportunity: str | Ref = ""
        if create.get("opportunity_name"):
            opp_key = run.key("opportunity")
            opp_map = existing.get((meeting.pk, CREATED_OPPORTUNITY))
            if opp_map is not None:
                opportunity = opp_map.salesforce_id
            else:
                close = create.get("close_date") or (dt.date.today() + dt.timedelta(days=30))
                run.writes.append(
                    Write(
                        opp_key,
                        run.key(""),
                        "create",
                        "Opportunity",
                        {
                            "Name": create["opportunity_name"],
                            "AccountId": account,
                            "StageName": create.get("stage") or "Prospecting",
                            "CloseDate": str(close),
                        },
                    )
                )
                run.mapping_writes.append(
                    MappingWrite(opp_key, *meeting_local, CREATED_OPPORTUNITY, "Opportunity")
                )
                opportunity = Ref(opp_key)
            target = Candidate("Opportunity", "", create["opportunity_name"])
            target_ref = opportunity
        attendees = {a.email: a for a in meeting.attendees.all()}
        contact_maps = mappings_for(run, Attendee, [a.pk for a in attendees.values()])
        people: list[tuple[Attendee | None, str | Ref]] = []
        matched = {c.email for c in contacts}
        for contact in contacts:
            if contact.account_id:
                people.append((attendees.get(contact.email), contact.id))
                continue
            run.writes.append(
                Write(
                    run.key(f"link{contact.id}"),
                    run.key(""),
                    "update",
                    "Contact",
                    {"AccountId": account},
                    salesforce_id=contact.id,
                )
            )
            people.append((attendees.get(contact.email), contact.id))
        for email in emails:
            if email in matched:
                continue
            attendee = attendees.get(email)
            mapped = contact_maps.get((attendee.pk, ATTENDEE_CONTACT)) if attendee else None
            if mapped is not None:
                people.append((attendee, mapped.salesforce_id))
                continue
            first, last = _split_name(attendee.name if attendee else "", email)
            key = run.key(f"contact{attendee.pk if attendee else len(people)}")
            fields = {"FirstName": first, "LastName": last, "Email": email, "AccountId": account}
            if attendee is not None and attendee.phone:
                fields["Phone"] = attendee.phone
            run.writes.append(Write(key, run.key(""), "create", "Contact", fields))
            if attendee is not None:
                run.mapping_writes.append(
                    MappingWrite(key, ct(Attendee), attendee.pk, ATTENDEE_CONTACT, "Contact")
                )
            people.append((attendee, Ref(key)))
        if opportunity:
            for index, (attendee, contact_id) in enumerate(people):
                if attendee is not None and (attendee.pk, ATTENDEE_CONTACT_ROLE) in contact_maps:
                    continue
                key = run.key(f"role{index}")
                run.writes.append(
                    Write(
                        key,
                        run.key(""),
                        "create",
                        "OpportunityContactRole",
                        {
                            "OpportunityId": opportunity,
                            "ContactId": contact_id,
                            "IsPrimary": index == 0,
                        },
                    )
                )
                if attendee is not None:
                    run.mapping_writes.append(
                        MappingWrite(
                            key,
                            ct(Attendee),
                            attendee.pk,
                            ATTENDEE_CONTACT_ROLE,
                            "OpportunityContactRole",
                        )
                    )
        if isinstance(target_ref, str):
            target = Candidate(target.sobject, target_ref, target.name)
            return target, target_ref  # type: ignore[return-value]
        return target, target_ref


def _notes_relink(meeting: Meeting) -> None:
    from integrations import services

    with transaction.atomic():
        services.sync_job_enqueue(
            tenant=meeting.tenant,
            operation=operations.OPERATION_MEETING_SYNC,
            local_object=meeting,
            params={"reason": "link the Notes to the record just created"},
        )


def _split_name(name: str, email: str) -> tuple[str, str]:
    """First and last name for a new Contact or Lead; Salesforce requires a last name,
    so an unnamed person gets the part of the address before the @."""
    parts = name.strip().split()
    if len(parts) >= 2:
        return " ".join(parts[:-1])[:40], parts[-1][:80]
    if parts:
        return "", parts[0][:80]
    return "", email.split("@", 1)[0][:80]


# --- activity.sync: calls, conferences, tasks (SPEC 3.5) --------------------------------------


class ActivityLog(Executor):
    def prepare(self, run: JobRun) -> None:
        activity = Activity.objects.filter(pk=run.job.object_id, tenant=run.tenant).first()
        if activity is None:
            return run.done(State.SKIPPED, "The activity no longer exists.")
        participants = list(activity.participants.all())
        maps = mappings_for(run, ActivityParticipant, [p.pk for p in participants])
        requested = bool(run.job.params.get("requested"))
        already = any(purpose == ACTIVITY_TASK for _, purpose in maps)
        if not (requested or already or run.settings.log_calls_automatically):
            return run.done(
                State.SKIPPED,
                "Activities are logged on request for this tenant; "
                "ask to log this one, or turn on automatic logging.",
            )
        domains = run.tenant.internal_domains
        internal = [p for p in participants if p.email and not external_emails([p.email], domains)]
        external = [p for p in participants if p not in internal]
        if not external:
            return run.done(
                State.SKIPPED,
                "Only internal users took part; internal activities are not logged to Salesforce.",
            )
        emails = external_emails([p.email for p in external if p.email], domains)
        run.state = {
            "activity": activity,
            "external": external,
            "internal": internal,
            "maps": maps,
            "leads": {oid: m for (oid, purpose), m in maps.items() if purpose == PARTICIPANT_LEAD},
            "emails": emails,
        }
        run.people_emails.update(emails)
        run.user_emails.update([activity.logged_by_email] + [p.email for p in internal])

    def plan(self, run: JobRun, directory: Directory) -> None:
        activity: Activity = run.state["activity"]
        emails: list[str] = run.state["emails"]
        choices = {
            c.email: {"object": c.salesforce_object, "id": c.salesforce_id}
            for c in MatchChoice.objects.filter(tenant=run.tenant, email__in=emails)
        }
        choices.update(run.job.params.get("choices") or {})
        lead_requests = {e for e, c in choices.items() if c.get("object") == "create_lead"}
        chosen, ambiguous = activity_people(
            directory, emails, {e: c for e, c in choices.items() if e not in lead_requests}
        )
        # Tasks already logged keep their person.
        by_email = {p.email: p for p in run.state["external"] if p.email}
        for email, participant in by_email.items():
            mapping = run.state["maps"].get((participant.pk, ACTIVITY_TASK))
            if mapping is not None and mapping.parent_id:
                chosen[email] = Person(mapping.parent_object, mapping.parent_id, email)  # type: ignore[arg-type]
        ambiguous = [a for a in ambiguous if a.email not in chosen and a.email not in lead_requests]
        if ambiguous:
            candidates = [
                {"email": a.email, "object": p.sobject, "id": p.id, "name": p.name}
                for a in ambiguous
                for p in a.people
            ]
            who = ", ".join(a.email for a in ambiguous)
            return run.done(
                State.NEEDS_REVIEW,
                f"Several Salesforce records match {who}. "
                "Confirm which one (or create a Lead) before the activity is "
                "logged; the choice is remembered for that address.",
                candidates=candidates,
            )
        logger_id = directory.users.get(activity.logged_by_email.lower(), "")
        participant_users = [
            directory.users[p.email.lower()]
            for p in run.state["internal"]
            if p.email.lower() in directory.users
        ]
        installer = run.connection.installer_salesforce_user_id
        subject = payloads.activity_subject(activity.kind, activity.direction, activity.subject)
        logged = 0
        for email in emails:
            participant = by_email.get(email)
            if participant is None:
                continue
            who: str | Ref
            made = run.state["leads"].get(participant.pk)
            if made is not None and email in lead_requests and email not in chosen:
                # A Lead was already created for this participant: it is the one.
                chosen[email] = Person("Lead", made.salesforce_id, email, participant.name)
            if email in lead_requests and email not in chosen:
                lead_key = run.key(f"lead{participant.pk}")
                run.writes.append(
                    Write(
                        lead_key,
                        run.key(""),
                        "create",
                        "Lead",
                        lead_fields(participant, choices[email].get("company")),
                    )
                )
                run.mapping_writes.append(
                    MappingWrite(
                        lead_key, ct(ActivityParticipant), participant.pk, PARTICIPANT_LEAD, "Lead"
                    )
                )
                person = Person("Lead", "", email, participant.name)
                who = Ref(lead_key)
                run.after_success.append(_remember_lead(run, email, lead_key))
            elif email in chosen:
                person = chosen[email]
                who = person.id
            else:
                continue
            owner, say_who = task_owner(
                person=person,
                logging_user_id=logger_id,
                installer_user_id=installer,
                participant_user_ids=participant_users,
            )
            description = activity.notes
            if say_who:
                line = payloads.logged_by_line(activity.logged_by_name, activity.logged_by_email)
                description = f"{line}\n\n{description}" if description else line
            fields: dict[str, Any] = {
                "Subject": subject,
                "Status": "Completed",
                "ActivityDate": activity.started_at.date().isoformat(),
                "WhoId": who,
                "Description": payloads.clip(description, payloads.DESCRIPTION_MAX),
            }
            if owner:
                fields["OwnerId"] = owner
            if activity.kind in (Activity.Kind.CALL, Activity.Kind.CONFERENCE):
                fields["CallDurationInSeconds"] = activity.duration_seconds
                if activity.kind == Activity.Kind.CALL:
                    fields["CallType"] = activity.direction.capitalize()
            mapping = run.state["maps"].get((participant.pk, ACTIVITY_TASK))
            key = run.key(f"task{participant.pk}")
            if mapping is not None and mapping.salesforce_id:
                if mapping.pushed_version >= activity.version:
                    continue
                fields.pop("WhoId")
                run.writes.append(
                    Write(
                        key,
                        run.key(""),
                        "update",
                        "Task",
                        fields,
                        salesforce_id=mapping.salesforce_id,
                    )
                )
            else:
                fields["TaskSubtype"] = "Task" if activity.kind == Activity.Kind.TASK else "Call"
                run.writes.append(Write(key, run.key(""), "create", "Task", fields))
            run.mapping_writes.append(
                MappingWrite(
                    key,
                    ct(ActivityParticipant),
                    participant.pk,
                    ACTIVITY_TASK,
                    "Task",
                    activity.version,
                    person.sobject,
                    who,
                    person.name,
                )
            )
            logged += 1
        if not logged and not any(
            (p.pk, ACTIVITY_TASK) in run.state["maps"] for p in run.state["external"]
        ):
            return run.done(
                State.SKIPPED,
                "No Contact or Lead in Salesforce matches "
                f"{', '.join(emails) or 'the participants'}; create a Lead to "
                "log it.",
            )
        run.success = Finish(
            State.SUCCEEDED,
            f"Logged as {logged} Task(s)."
            if logged
            else "Salesforce already holds this version of the activity.",
        )


def lead_fields(participant: ActivityParticipant, company: str | None) -> dict[str, Any]:
    """A Lead from a participant: name, email, phone, and the company asked for or taken
    from the email's domain."""
    first, last = _split_name(participant.name, participant.email or participant.phone)
    domain = participant.email.split("@", 1)[1] if "@" in participant.email else ""
    fields: dict[str, Any] = {
        "FirstName": first,
        "LastName": last,
        "Company": (company or domain.split(".")[0].title() or "Unknown")[:255],
    }
    if participant.email:
        fields["Email"] = participant.email
    if participant.phone:
        fields["Phone"] = participant.phone
    return fields


def _remember_lead(run: JobRun, email: str, key: str) -> Any:
    def remember(ids: dict[str, str]) -> None:
        if key in ids:
            MatchChoice.objects.update_or_create(
                tenant=run.tenant,
                email=email,
                defaults={"salesforce_object": "Lead", "salesforce_id": ids[key]},
            )

    return remember


class LeadCreate(Executor):
    """Create a Lead from an activity's participant (SPEC 3.5)."""

    def prepare(self, run: JobRun) -> None:
        participant = ActivityParticipant.objects.filter(
            pk=run.job.object_id, activity__tenant=run.tenant
        ).first()
        if participant is None:
            return run.done(State.SKIPPED, "The participant no longer exists.")
        # Asked for explicitly, even when the address matches records already (seed
        # 001: "confirm the match, or create a Salesforce Lead"): no lookup needed.
        run.state = {"participant": participant}

    def plan(self, run: JobRun, directory: Directory) -> None:
        participant: ActivityParticipant = run.state["participant"]
        mapping = mappings_for(run, ActivityParticipant, [participant.pk]).get(
            (participant.pk, PARTICIPANT_LEAD)
        )
        if mapping is not None:
            run.success = Finish(State.SUCCEEDED, f"The Lead exists: {mapping.salesforce_id}.")
            return
        key = run.key("lead")
        run.writes.append(
            Write(
                key,
                run.key(""),
                "create",
                "Lead",
                lead_fields(participant, run.job.params.get("company")),
            )
        )
        run.mapping_writes.append(
            MappingWrite(key, ct(ActivityParticipant), participant.pk, PARTICIPANT_LEAD, "Lead")
        )
        if participant.email:
            run.after_success.append(_remember_lead(run, participant.email, key))
        run.success = Finish(
            State.SUCCEEDED, f"Lead created for {participant.name or participant.email}."
        )


# --- booking.sync: scheduler bookings (SPEC 3.6) ----------------------------------------------


class BookingLog(Executor):
    def prepare(self, run: JobRun) -> None:
        booking = Booking.objects.filter(pk=run.job.object_id, tenant=run.tenant).first()
        if booking is None:
            return run.done(State.SKIPPED, "The booking no longer exists.")
        mapping = mappings_for(run, Booking, [booking.pk]).get((booking.pk, BOOKING_TASK))
        if mapping is not None and not mapping.salesforce_id:
            mapping = None  # deleted in Salesforce: logged again from scratch
        run.state = {"booking": booking, "mapping": mapping}
        if mapping is not None:
            return  # updates need no lookup
        if not run.settings.log_scheduled_meetings:
            return run.done(State.SKIPPED, "Logging scheduled meetings is off for this tenant.")
        if not booking.booked_by_guest:
            return run.done(
                State.SKIPPED, "Only meetings a guest booked through the scheduler are logged."
            )
        if booking.status == Booking.Status.CANCELLED:
            return run.done(State.SKIPPED, "The booking was cancelled before it was logged.")
        run.people_emails.add(booking.guest_email)
        run.user_emails.add(booking.host_email)

    def plan(self, run: JobRun, directory: Directory) -> None:
        booking: Booking = run.state["booking"]
        mapping: SyncMapping | None = run.state["mapping"]
        cancelled = booking.status == Booking.Status.CANCELLED
        fields: dict[str, Any] = {
            "Subject": payloads.clip(f"Meeting: {booking.title}", payloads.SUBJECT_MAX),
            "ActivityDate": booking.start.date().isoformat(),
            "Description": payloads.booking_description(
                title=booking.title,
                description=booking.description,
                start=booking.start,
                end=booking.end,
                guest=booking.guest_name or booking.guest_email,
                cancelled=cancelled,
            ),
            "Status": "Completed" if cancelled else "Not Started",
        }
        key = run.key("task")
        if mapping is not None:
            if mapping.pushed_version >= booking.version:
                run.success = Finish(
                    State.SUCCEEDED,
                    f"Salesforce already holds version {mapping.pushed_version} of this booking.",
                )
                return
            if cancelled:
                fields["Subject"] = payloads.clip(
                    f"Cancelled: {booking.title}", payloads.SUBJECT_MAX
                )
            run.writes.append(
                Write(
                    key, run.key(""), "update", "Task", fields, salesforce_id=mapping.salesforce_id
                )
            )
            run.mapping_writes.append(
                MappingWrite(
                    key,
                    ct(Booking),
                    booking.pk,
                    BOOKING_TASK,
                    "Task",
                    booking.version,
                    mapping.parent_object,
                    mapping.parent_id,
                    mapping.parent_name,
                )
            )
            what = "cancelled" if cancelled else f"version {booking.version}"
            run.success = Finish(State.SUCCEEDED, f"The Task now shows the booking {what}.")
            return
        host = directory.users.get(booking.host_email.lower())
        people = (
            directory.contacts.get(booking.guest_email.lower())
            or directory.leads.get(booking.guest_email.lower())
            or []
        )
        if not people:
            return run.done(
                State.SKIPPED,
                f"The guest {booking.guest_email} is not a Contact or "
                "Lead in Salesforce; bookings are logged only for people already "
                "there.",
            )
        if host is None:
            return run.done(
                State.SKIPPED,
                f"The host {booking.host_email} has no active Salesforce user with that email.",
            )
        chosen = run.job.params.get("target")
        if chosen:
            guest = Person(
                chosen["object"], chosen["id"], booking.guest_email, chosen.get("name", "")
            )
        elif len(people) > 1:
            return run.done(
                State.NEEDS_REVIEW,
                f"Several Salesforce records match the guest {booking.guest_email}; choose one.",
                candidates=[{"object": p.sobject, "id": p.id, "name": p.name} for p in people],
            )
        else:
            guest = people[0]
        fields.update({"WhoId": guest.id, "OwnerId": host, "TaskSubtype": "Task"})
        run.writes.append(Write(key, run.key(""), "create", "Task", fields))
        run.mapping_writes.append(
            MappingWrite(
                key,
                ct(Booking),
                booking.pk,
                BOOKING_TASK,
                "Task",
                booking.version,
                guest.sobject,
                guest.id,
                guest.name,
            )
        )
        run.success = Finish(
            State.SUCCEEDED,
            f"Logged as an open Task for {guest.sobject} "
            f"{guest.name or guest.id}, owned by the host.",
        )


executor_register(operations.OPERATION_MEETING_PROCESSED, MeetingAutoSync())
executor_register(operations.OPERATION_HIGHLIGHT_SYNC, HighlightPropagate())
executor_register(operations.OPERATION_MEETING_SYNC, MeetingPropagate())
executor_register(operations.OPERATION_HIGHLIGHTS_SEND, HighlightsSend())
executor_register(operations.OPERATION_ACTIVITY_SYNC, ActivityLog())
executor_register(operations.OPERATION_LEAD_CREATE, LeadCreate())
executor_register(operations.OPERATION_BOOKING_SYNC, BookingLog())
