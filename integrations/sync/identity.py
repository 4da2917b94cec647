"""What makes a record the portal created recognisable in Salesforce when the answer to
its create never arrived.

A create is stored with its identity before it is sent: the fields Salesforce can filter
on (a Contact's Email, an Event's Subject, start and links, a link's two ends), plus a
hash of the content Salesforce cannot filter on (a Note's body, a Task's description).
Recovery accepts a candidate only when every part matches, so two interrupted syncs of
meetings that share a title never take each other's Note.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from integrations.enums import SObject
from integrations.salesforce.writer import Ref

# Filterable fields that identify a record of each object (besides who made it and
# when, which recovery adds for objects that have CreatedDate).
MATCH_FIELDS: dict[str, tuple[str, ...]] = {
    SObject.CONTENT_NOTE: ("Title",),
    SObject.NOTE: ("Title", "ParentId"),
    SObject.EVENT: ("Subject", "WhatId", "WhoId", "StartDateTime"),
    SObject.TASK: ("Subject", "WhoId", "ActivityDate"),
    SObject.ACCOUNT: ("Name",),
    SObject.OPPORTUNITY: ("Name", "AccountId"),
    SObject.CONTACT: ("Email",),
    SObject.LEAD: ("Email", "LastName"),
    SObject.CONTENT_DOCUMENT_LINK: ("ContentDocumentId", "LinkedEntityId"),
    SObject.EVENT_RELATION: ("EventId", "RelationId"),
    SObject.OPPORTUNITY_CONTACT_ROLE: ("OpportunityId", "ContactId"),
}
# Links are found through the record they hang on (ContentDocumentLink has no
# CreatedDate to filter on, and the pair of ends is unique anyway).
LINK_PARENT_FIELD: dict[str, str] = {
    SObject.CONTENT_DOCUMENT_LINK: "ContentDocumentId",
    SObject.EVENT_RELATION: "EventId",
    SObject.OPPORTUNITY_CONTACT_ROLE: "OpportunityId",
}
# Content that identifies a record but cannot be filtered on: compared by hash. A
# ContentNote's content is a file, fetched from its Content URL.
HASHED_FIELD: dict[str, str] = {
    SObject.CONTENT_NOTE: "Content",
    SObject.NOTE: "Body",
    SObject.TASK: "Description",
}
# A reference to another create of the same plan is stored as "@" and that record's
# slot (see `slot_key`): known before anything is written.
REF_PREFIX = "@"


def slot_key(content_type_id: int, object_id: int, purpose: str) -> str:
    """A record's slot (local object and purpose) as one string."""
    return f"{content_type_id}:{object_id}:{purpose}"


def content_hash(value: str | bytes) -> str:
    """A fingerprint of the text a record holds, not of its bytes: Salesforce tidies a
    note's HTML (and may re-wrap a description), so tags, entities and white space are
    set aside before hashing."""
    text = value.decode(errors="replace") if isinstance(value, bytes) else value
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


@dataclass(frozen=True)
class RecordIdentity:
    sobject: str
    match: dict[str, str] = field(default_factory=dict)
    hashed: str = ""  # sha256 of the hashed field's value, "" when there is none
    # What the row holds once the record is confirmed: the local version it carries
    # and the record it is linked to (object, Id or "@<mapping id>", name).
    version: int = 0
    parent: tuple[str, str, str] = ("", "", "")

    def as_json(self) -> dict[str, Any]:
        return {
            "sobject": self.sobject,
            "match": self.match,
            "hashed": self.hashed,
            "version": self.version,
            "parent": list(self.parent),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RecordIdentity:
        parent = [str(p) for p in (data.get("parent") or ["", "", ""])][:3]
        return cls(
            sobject=str(data.get("sobject", "")),
            match={str(k): str(v) for k, v in (data.get("match") or {}).items()},
            hashed=str(data.get("hashed", "")),
            version=int(data.get("version") or 0),
            parent=(parent[0], parent[1], parent[2]),
        )

    def references(self) -> dict[str, str]:
        """Field -> the slot key of another create this one points at."""
        return {
            name: value[len(REF_PREFIX) :]
            for name, value in self.match.items()
            if value.startswith(REF_PREFIX)
        }


def identity_of(
    sobject: str,
    fields: dict[str, Any],
    slot_of_ref: dict[str, str],
    *,
    version: int = 0,
    parent: tuple[str, str | Ref, str] = ("", "", ""),
) -> RecordIdentity:
    """The identity of a create, as planned: `slot_of_ref` turns a reference to another
    create of the plan into that create's slot key."""

    def stored(value: Any) -> str:
        if isinstance(value, Ref):
            return f"{REF_PREFIX}{slot_of_ref[value.key]}"
        return "" if value is None else str(value)

    match = {name: stored(fields.get(name)) for name in MATCH_FIELDS.get(sobject, ())}
    hashed = ""
    hashed_field = HASHED_FIELD.get(sobject)
    if hashed_field and fields.get(hashed_field):
        raw = fields[hashed_field]
        hashed = content_hash(
            base64.b64decode(raw) if sobject == SObject.CONTENT_NOTE else str(raw)
        )
    return RecordIdentity(
        sobject, match, hashed, version, (parent[0], stored(parent[1]), parent[2])
    )


def row_matches(identity: RecordIdentity, row: dict[str, Any], resolved: dict[str, str]) -> bool:
    """Whether a record Salesforce returned has the filterable fields of `identity`;
    `resolved` gives the values of references (field -> Id found)."""
    for name, wanted in identity.match.items():
        value = resolved.get(name, wanted)
        have = row.get(name)
        if not _same(name, "" if have is None else str(have), value):
            return False
    return True


def _same(name: str, have: str, wanted: str) -> bool:
    if name.endswith("DateTime"):
        # Salesforce answers "2026-11-20T15:00:00.000+0000" for "2026-11-20T15:00:00Z".
        return _instant(have) == _instant(wanted)
    if name == "Email":
        return have.lower() == wanted.lower()
    return have == wanted


def _instant(value: str) -> str:
    """A date-time to the millisecond, as Salesforce keeps it: "2026-11-20T15:00:00.250Z"
    sent comes back as "2026-11-20T15:00:00.250+0000"."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000).isoformat()
