"""The connection check: what the org lets the installing user do, read from describe
and /limits before any sync depends on it.

Two API calls: one Composite request carrying the global describe and the describes of
the objects the portal writes (describe answers for the session's user, so it reflects
that user's object and field permissions), and GET /limits.

Shared Activities has no setting the API reads; Salesforce shows it through the objects
it brings: TaskRelation exists only in orgs that have it, and EventRelation relates
Contacts as parents (its `IsParent` field) only there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from integrations.salesforce.client import SalesforceClient


@dataclass(frozen=True)
class ObjectWrites:
    """The fields the portal sets when it creates a record, and those it changes later."""

    create: tuple[str, ...]
    update: tuple[str, ...] = ()


# Every object the portal writes (see integrations/salesforce/payloads.py), with the
# fields each write sets.
PORTAL_WRITES: dict[str, ObjectWrites] = {
    "ContentNote": ObjectWrites(create=("Title", "Content"), update=("Title", "Content")),
    "ContentDocumentLink": ObjectWrites(
        create=("ContentDocumentId", "LinkedEntityId", "ShareType")
    ),
    "Note": ObjectWrites(create=("Title", "Body", "ParentId"), update=("Title", "Body")),
    "Event": ObjectWrites(
        create=("Subject", "StartDateTime", "EndDateTime", "WhoId", "WhatId", "Description"),
        update=("Subject", "StartDateTime", "EndDateTime", "Description"),
    ),
    "EventRelation": ObjectWrites(create=("EventId", "RelationId")),
    "Task": ObjectWrites(
        create=(
            "Subject",
            "Description",
            "WhoId",
            "WhatId",
            "ActivityDate",
            "Status",
            "OwnerId",
            "TaskSubtype",
            "CallType",
            "CallDurationInSeconds",
        ),
        update=("Subject", "Description", "ActivityDate", "Status"),
    ),
    "TaskRelation": ObjectWrites(create=("TaskId", "RelationId")),
    "Contact": ObjectWrites(
        create=("FirstName", "LastName", "Email", "Phone", "AccountId"), update=("AccountId",)
    ),
    "Lead": ObjectWrites(create=("FirstName", "LastName", "Email", "Phone", "Company")),
    "Account": ObjectWrites(create=("Name",)),
}

# Objects the checklist names one by one; the relation objects and ContentNote's link
# are part of "Shared Activities" and "Lightning notes" instead.
LISTED_OBJECTS = ("Task", "Event", "Contact", "Lead", "Account", "Note")
OBJECT_WORDS = {
    "Task": "Tasks (calls, conferences and bookings)",
    "Event": "Events (meetings)",
    "Contact": "Contacts",
    "Lead": "Leads",
    "Account": "Accounts",
    "Note": "Classic Notes",
    "ContentNote": "Lightning notes",
    "ContentDocumentLink": "Lightning note links",
}


@dataclass(frozen=True)
class ObjectAccess:
    """What the installing user may do with one object, as describe says."""

    name: str
    available: bool = False
    createable: bool = False
    updateable: bool = False
    # Fields the portal sets that the user may not set (hidden by field-level security,
    # read-only, or absent from the org).
    fields_not_createable: tuple[str, ...] = ()
    fields_not_updateable: tuple[str, ...] = ()

    @property
    def writable(self) -> bool:
        needs_update = bool(PORTAL_WRITES[self.name].update)
        return (
            self.available
            and self.createable
            and (self.updateable or not needs_update)
            and not self.fields_not_createable
            and not self.fields_not_updateable
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ObjectAccess:
        return cls(
            name=str(data["name"]),
            available=bool(data.get("available")),
            createable=bool(data.get("createable")),
            updateable=bool(data.get("updateable")),
            fields_not_createable=tuple(data.get("fields_not_createable", ())),
            fields_not_updateable=tuple(data.get("fields_not_updateable", ())),
        )


@dataclass(frozen=True)
class ConnectionCheck:
    """What the last check found; stored on the connection as JSON (`to_json`)."""

    shared_activities: bool = False
    objects: dict[str, ObjectAccess] = field(default_factory=dict)
    api_daily_max: int = 0
    api_daily_remaining: int = 0
    # The API calls the check itself spent.
    api_calls: int = 0
    # Set when the org could not be read: nothing else is known then.
    error: str = ""

    def access(self, name: str) -> ObjectAccess:
        return self.objects.get(name) or ObjectAccess(name=name)

    @property
    def content_notes(self) -> bool:
        """Lightning notes can be written and linked to records."""
        return self.access("ContentNote").writable and self.access("ContentDocumentLink").writable

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["objects"] = {name: asdict(access) for name, access in self.objects.items()}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ConnectionCheck | None:
        if not data:
            return None
        return cls(
            shared_activities=bool(data.get("shared_activities")),
            objects={
                name: ObjectAccess.from_json(value)
                for name, value in (data.get("objects") or {}).items()
            },
            api_daily_max=int(data.get("api_daily_max") or 0),
            api_daily_remaining=int(data.get("api_daily_remaining") or 0),
            api_calls=int(data.get("api_calls") or 0),
            error=str(data.get("error") or ""),
        )


def _object_access(name: str, summary: dict[str, Any] | None, describe: Any) -> ObjectAccess:
    """One object's access from its global-describe summary and its own describe (a
    dict, or an error list when the object is not there for this user)."""
    if summary is None or not isinstance(describe, dict):
        return ObjectAccess(name=name)
    fields = {f["name"]: f for f in describe.get("fields", []) if isinstance(f, dict)}
    writes = PORTAL_WRITES[name]
    return ObjectAccess(
        name=name,
        available=True,
        createable=bool(describe.get("createable", summary.get("createable"))),
        updateable=bool(describe.get("updateable", summary.get("updateable"))),
        fields_not_createable=tuple(
            f for f in writes.create if not fields.get(f, {}).get("createable")
        ),
        fields_not_updateable=tuple(
            f for f in writes.update if not fields.get(f, {}).get("updateable")
        ),
    )


def _shared_activities(objects: dict[str, ObjectAccess], event_relation: Any) -> bool:
    task_relation = objects["TaskRelation"]
    event_fields = {
        f["name"]: f
        for f in (event_relation.get("fields", []) if isinstance(event_relation, dict) else [])
        if isinstance(f, dict)
    }
    return (
        task_relation.writable
        and objects["EventRelation"].writable
        and bool(event_fields.get("IsParent", {}).get("createable"))
    )


def capabilities_read(client: SalesforceClient) -> ConnectionCheck:
    """Read the org's describe and limits through `client` (two API calls)."""
    before = client.api_calls
    base = client.base_path
    subrequests = [{"method": "GET", "url": f"{base}/sobjects", "referenceId": "global"}]
    subrequests += [
        {"method": "GET", "url": f"{base}/sobjects/{name}/describe", "referenceId": name}
        for name in PORTAL_WRITES
    ]
    answers = {
        r["referenceId"]: r
        for r in client.composite(subrequests, all_or_none=False, raise_errors=False)
    }
    ok = {ref: answer["body"] for ref, answer in answers.items() if answer["httpStatusCode"] == 200}
    limits = client.limits()
    return connection_check_from(
        global_describe=ok.get("global"),
        describes={name: ok.get(name) for name in PORTAL_WRITES},
        limits=limits,
        api_calls=client.api_calls - before,
    )


def connection_check_from(
    *,
    global_describe: Any,
    describes: dict[str, Any],
    limits: dict[str, Any],
    api_calls: int = 0,
) -> ConnectionCheck:
    """The check from Salesforce's answers: the global describe, each object's describe
    (None where Salesforce answered an error, as for an object the org does not have)
    and /limits."""
    summaries = {
        s["name"]: s
        for s in (global_describe or {}).get("sobjects", [])
        if isinstance(s, dict) and "name" in s
    }
    objects = {
        name: _object_access(name, summaries.get(name), describes.get(name))
        for name in PORTAL_WRITES
    }
    daily = limits.get("DailyApiRequests") or {}
    return ConnectionCheck(
        shared_activities=_shared_activities(objects, describes.get("EventRelation")),
        objects=objects,
        api_daily_max=int(daily.get("Max") or 0),
        api_daily_remaining=int(daily.get("Remaining") or 0),
        api_calls=api_calls,
    )


# --- the checklist the settings page shows ------------------------------------------------


class CheckItem(StrEnum):
    API_LIMIT = "api_limit"
    SHARED_ACTIVITIES = "shared_activities"
    CONTENT_NOTES = "content_notes"
    OBJECT = "object"


@dataclass(frozen=True)
class ChecklistLine:
    item: CheckItem
    ok: bool
    title: str
    # What was found, in words.
    detail: str
    # What to do when it is missing ("" when ok).
    advice: str = ""


def _object_line(access: ObjectAccess) -> ChecklistLine:
    words = OBJECT_WORDS[access.name]
    if access.writable:
        return ChecklistLine(
            CheckItem.OBJECT, True, words, f"The installing user can create and edit {access.name}."
        )
    if not access.available or not access.createable:
        detail = f"The installing user cannot create {access.name} records."
        advice = (
            f"Ask your Salesforce admin to give the installing user Create and Edit on "
            f"{access.name} (Setup → Users → Profiles or Permission Sets → Object Settings)."
        )
    else:
        missing = sorted(set(access.fields_not_createable) | set(access.fields_not_updateable))
        detail = f"The installing user cannot set these {access.name} fields: {', '.join(missing)}."
        advice = (
            f"Ask your Salesforce admin to give the installing user Edit access to those "
            f"fields (Setup → Object Manager → {access.name} → Fields → Set Field-Level "
            "Security)."
        )
    return ChecklistLine(CheckItem.OBJECT, False, words, detail, advice)


def checklist(check: ConnectionCheck) -> list[ChecklistLine]:
    """The check in words: one line per thing the sync relies on, each with what to do
    when it is missing."""
    lines = []
    has_room = check.api_daily_remaining > 0
    lines.append(
        ChecklistLine(
            CheckItem.API_LIMIT,
            has_room,
            "Daily API requests",
            f"{check.api_daily_remaining:,} of the org's {check.api_daily_max:,} daily API "
            f"requests are left (this check used {check.api_calls}).",
            ""
            if has_room
            else "Syncing waits until Salesforce allows requests again; ask your Salesforce "
            "admin whether the org's daily limit can be raised.",
        )
    )
    lines.append(
        ChecklistLine(
            CheckItem.SHARED_ACTIVITIES,
            check.shared_activities,
            "Shared Activities",
            "One Event or Task can name every matched person."
            if check.shared_activities
            else "Turned off in the org: each Event or Task can name only one person, so "
            "further attendees are left out.",
            ""
            if check.shared_activities
            else "Ask your Salesforce admin to turn on Shared Activities (Setup → Activity "
            "Settings → Allow Users to Relate Multiple Contacts to Tasks and Events).",
        )
    )
    lines.append(
        ChecklistLine(
            CheckItem.CONTENT_NOTES,
            check.content_notes,
            "Lightning notes (ContentNote)",
            "Available: highlights can be sent as Lightning notes."
            if check.content_notes
            else "Not available to the installing user.",
            ""
            if check.content_notes
            else "Ask your Salesforce admin to turn on Notes (Setup → Notes Settings → Enable "
            "Notes) and give the installing user access to it, or choose “Classic Note” as "
            "the note type below.",
        )
    )
    lines += [_object_line(check.access(name)) for name in LISTED_OBJECTS]
    return lines
