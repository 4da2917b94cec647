"""One org's records and the rules Salesforce applies when they are written.

An ``Org`` implements the SOQL engine's ``Catalog``. Every write goes through
``create``/``update``/``delete``, which validate as Salesforce does and keep an undo
journal so a composite or collection request can roll back all-or-none.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from . import ids
from .errors import ApiError, DuplicatesDetected, deleted, dml, not_found
from .faults import Faults
from .schema import STRING_TYPES, FieldDef, ObjectDef, standard_objects
from .types import FieldInfo

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DT_RE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?)?$"
)
_BASE_OBJECTS = standard_objects()
# The org's LeadStatus values with IsConverted true (convertLead() takes one of them).
CONVERTED_LEAD_STATUS = "Closed - Converted"
CONVERTED_LEAD_STATUSES = frozenset({CONVERTED_LEAD_STATUS})
_LOCK_MESSAGE = "unable to obtain exclusive access to this record or 1 records: {}"


def sf_datetime(value: datetime) -> str:
    """Salesforce's datetime form: milliseconds and a +0000 offset, always UTC."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime | None:
    match = _DT_RE.match(text.strip())
    if not match:
        return None
    day, hour, minute, second, fraction, zone = match.groups()
    try:
        base = datetime.fromisoformat(day)
        moment = base.replace(
            hour=int(hour or 0),
            minute=int(minute or 0),
            second=int(second or 0),
            microsecond=int((fraction or "0").ljust(6, "0")),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment


@dataclass
class ValidationRule:
    sobject: str
    message: str
    field: str | None = None
    when: Callable[[Mapping[str, Any]], bool] | Mapping[str, Any] | None = None

    def fires(self, row: Mapping[str, Any]) -> bool:
        if self.when is None:
            return True
        if callable(self.when):
            return bool(self.when(row))
        return all(row.get(k) == v for k, v in self.when.items())


@dataclass
class RequestLogEntry:
    method: str
    path: str
    query: str
    status: int
    started_at: str
    duration_ms: float
    api_calls: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class WriteContext:
    """Who writes, and the request options that change the rules."""

    user_id: str
    api_version: str = "64.0"
    allow_duplicates: bool = False
    trusted: bool = False  # seeding through the Python API may set system fields


@dataclass
class Org:
    id: str
    name: str
    id_factory: ids.IdFactory
    shared_activities: bool = True
    admin_user_id: str = ""
    # The org's own host name ("My Domain"); empty: the server's host, shared by the orgs
    # without one, as orgs on one Salesforce instance once shared its host.
    my_domain: str = ""
    api_max: int = 100_000
    api_calls: int = 0
    query_batch_size: int = 2000
    objects: dict[str, ObjectDef] = field(default_factory=lambda: dict(_BASE_OBJECTS))
    tables: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    index: dict[str, str] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    # Query locator -> (the query's records, the batch size its pages are cut in).
    cursors: dict[str, tuple[list[dict[str, Any]], int]] = field(default_factory=dict)
    duplicate_rules: set[str] = field(default_factory=set)
    validation_rules: list[ValidationRule] = field(default_factory=list)
    locked: set[str] = field(default_factory=set)
    request_log: list[RequestLogEntry] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    custom_fields: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    on_change: Callable[[], None] | None = None
    _journal: list[tuple[str, str, dict[str, Any] | None, bytes | None]] | None = None
    _depth: int = 0
    _dirty: bool = False
    _lower_names: dict[str, str] = field(default_factory=dict)
    # (object, parent Id) -> the Ids of that object's rows under the parent, in the
    # order they were first stored, for the objects of _BY_PARENT: the rules of a new
    # relation or link look at its siblings only, not at every row of the org.
    _by_parent: dict[tuple[str, Any], dict[str, None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lower_names = {name.lower(): name for name in self.objects}
        for name in self.objects:
            self.tables.setdefault(name, {})

    # ----- Catalog -----------------------------------------------------------------

    def object_name(self, sobject: str) -> str | None:
        return self._lower_names.get(sobject.lower())

    def object_fields(self, sobject: str) -> Mapping[str, FieldInfo] | None:
        name = self.object_name(sobject)
        if name is None:
            return None
        return {key: f.info() for key, f in self.objects[name].fields.items()}

    def rows(self, sobject: str, *, include_deleted: bool) -> Iterable[Mapping[str, Any]]:
        name = self.object_name(sobject)
        if name is None:
            return []
        table = self.tables[name].values()
        if include_deleted:
            return list(table)
        return [row for row in table if not row["IsDeleted"]]

    def get_by_id(self, record_id: str) -> tuple[str, Mapping[str, Any]] | None:
        full = ids.to18(record_id)
        if full is None or full not in self.index:
            return None
        sobject = self.index[full]
        if sobject == "ContentNote":
            # A note is a ContentDocument seen through another object; relationships
            # from links and versions point at the document.
            sobject = "ContentDocument"
        return sobject, self.tables[sobject][full]

    # ----- Lookups -----------------------------------------------------------------

    def obj(self, sobject: str) -> ObjectDef:
        name = self.object_name(sobject)
        if name is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return self.objects[name]

    def find(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        full = ids.to18(record_id)
        if full is None:
            return None
        return self.tables[self.obj(sobject).name].get(full)

    def record_of(self, record_id: str) -> tuple[str, dict[str, Any]] | None:
        full = ids.to18(record_id)
        if full is None or full not in self.index:
            return None
        sobject = self.index[full]
        return sobject, self.tables[sobject][full]

    def live(self, sobject: str) -> Iterator[dict[str, Any]]:
        return (row for row in self.tables[sobject].values() if not row["IsDeleted"])

    def shaped(
        self,
        sobject: str,
        row: Mapping[str, Any],
        api_version: str,
        fields: list[str] | None = None,
    ) -> dict[str, Any]:
        """A record as the REST API returns it, with its ``attributes``."""
        obj = self.obj(sobject)
        out: dict[str, Any] = {
            "attributes": {
                "type": obj.name,
                "url": f"/services/data/v{api_version}/sobjects/{obj.name}/{row['Id']}",
            }
        }
        if fields is None:
            names = [f.name for f in obj.fields.values()]
        else:
            names = []
            for wanted in fields:
                f = obj.field(wanted.strip())
                if f is None:
                    raise ApiError(
                        400,
                        "INVALID_FIELD",
                        f"No such column '{wanted.strip()}' on entity '{obj.name}'. "
                        "If you are attempting to use a custom field, be sure to "
                        "append the '__c' after the custom field name. Please "
                        "reference your WSDL or the describe call for the "
                        "appropriate names.",
                    )
                names.append(f.name)
        for name in names:
            value = row.get(name)
            if name == "Content" and obj.name == "ContentNote" and value is not None:
                value = f"/services/data/v{api_version}/sobjects/ContentNote/{row['Id']}/Content"
            out[name] = value
        return out

    # ----- Transactions --------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Collects undo entries for the outermost request; nested uses share it."""
        with self.lock:
            if self._depth == 0:
                self._journal = []
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._journal = None
                    if self._dirty and self.on_change is not None:
                        self.on_change()
                    self._dirty = False

    def savepoint(self) -> int:
        return len(self._journal) if self._journal is not None else 0

    def rollback_to(self, mark: int) -> None:
        journal = self._journal
        if journal is None:
            return
        while len(journal) > mark:
            sobject, record_id, previous, blob = journal.pop()
            if previous is None:
                self._by_parent_move(sobject, record_id, self.tables[sobject].get(record_id), None)
                self.tables[sobject].pop(record_id, None)
                if self.index.get(record_id) == sobject:
                    del self.index[record_id]
                self.blobs.pop(record_id, None)
            else:
                self._by_parent_move(
                    sobject, record_id, self.tables[sobject].get(record_id), previous
                )
                self.tables[sobject][record_id] = previous
                if blob is not None:
                    self.blobs[record_id] = blob

    def _put(self, sobject: str, row: dict[str, Any]) -> None:
        record_id = row["Id"]
        previous = self.tables[sobject].get(record_id)
        if self._journal is not None:
            self._journal.append((sobject, record_id, previous, self.blobs.get(record_id)))
        self._by_parent_move(sobject, record_id, previous, row)
        self.tables[sobject][record_id] = row
        self.index.setdefault(record_id, sobject)
        self._dirty = True

    def _by_parent_move(
        self,
        sobject: str,
        record_id: str,
        old: Mapping[str, Any] | None,
        new: Mapping[str, Any] | None,
    ) -> None:
        """Keep `_by_parent` in step with a row stored, replaced or taken out."""
        parent_field = _BY_PARENT.get(sobject)
        if parent_field is None:
            return
        if old is not None and (new is None or old.get(parent_field) != new.get(parent_field)):
            siblings = self._by_parent.get((sobject, old.get(parent_field)))
            if siblings is not None:
                siblings.pop(record_id, None)
        if new is not None:
            self._by_parent.setdefault((sobject, new.get(parent_field)), {})[record_id] = None

    def live_children(self, sobject: str, parent_id: Any) -> list[dict[str, Any]]:
        """The live rows of `sobject` (one of _BY_PARENT) under this parent, in the order
        of `live`."""
        parent_field = _BY_PARENT[sobject]
        table = self.tables[sobject]
        rows = []
        for record_id in self._by_parent.get((sobject, parent_id), ()):
            row = table.get(record_id)
            if row is not None and not row["IsDeleted"] and row.get(parent_field) == parent_id:
                rows.append(row)
        return rows

    # ----- Writes ----------------------------------------------------------------

    def now(self) -> str:
        return sf_datetime(datetime.now(UTC))

    def create(self, sobject: str, data: Mapping[str, Any], ctx: WriteContext) -> str:
        with self.transaction():
            obj = self.obj(sobject)
            if not obj.createable:
                raise dml(
                    "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be inserted: {obj.label}"
                )
            values, blob = self._coerce(obj, data, creating=True, ctx=ctx)
            row: dict[str, Any] = {f.name: None for f in obj.fields.values()}
            for f in obj.fields.values():
                if f.type == "boolean":
                    row[f.name] = bool(f.default) if f.default is not None else False
                elif f.default is not None and f.default != "$user":
                    row[f.name] = f.default
            if "OwnerId" in row:
                row["OwnerId"] = ctx.user_id
            stamp = self.now()
            row.update(
                IsDeleted=False,
                CreatedDate=stamp,
                LastModifiedDate=stamp,
                SystemModstamp=stamp,
                CreatedById=ctx.user_id,
                LastModifiedById=ctx.user_id,
            )
            row.update(values)
            self._check(obj, row, values, creating=True, ctx=ctx)
            record_id: str
            if ctx.trusted and values.get("Id"):
                record_id = values["Id"]  # an "id" field: _coerce_value made it 18 characters
            else:
                record_id = self.id_factory.new(obj.key_prefix)
            row["Id"] = record_id
            self._derive(obj, row, blob, ctx, set(values))
            self._rules(obj, row, ctx, creating=True)
            self._put(obj.name, row)
            self._after_create(obj, row, blob, ctx)
            return record_id

    def update(
        self, sobject: str, record_id: str, data: Mapping[str, Any], ctx: WriteContext
    ) -> None:
        with self.transaction():
            obj = self.obj(sobject)
            current = self._existing(obj, record_id)
            if current["Id"] in self.locked:
                raise dml("UNABLE_TO_LOCK_ROW", _LOCK_MESSAGE.format(current["Id"]))
            if obj.name == "Lead" and current.get("IsConverted") and not ctx.trusted:
                # A converted lead is read-only through the API: SOAP API Developer Guide,
                # StatusCode CANNOT_UPDATE_CONVERTED_LEAD ("cannot reference converted
                # lead"); convertLead() "Converted leads can't be updated".
                raise dml("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", [])
            data = {
                k: v
                for k, v in data.items()
                if not (k.lower() == "id" and ids.to18(str(v)) == current["Id"])
            }
            values, blob = self._coerce(obj, data, creating=False, ctx=ctx)
            row = dict(current)
            row.update(values)
            self._check(obj, row, values, creating=False, ctx=ctx)
            stamp = self.now()
            row.update(LastModifiedDate=stamp, SystemModstamp=stamp, LastModifiedById=ctx.user_id)
            self._derive(obj, row, blob, ctx, set(values))
            self._rules(obj, row, ctx, creating=False)
            self._put(obj.name, row)
            self._after_update(obj, row, blob)

    def delete(self, sobject: str, record_id: str, ctx: WriteContext) -> None:
        with self.transaction():
            obj = self.obj(sobject)
            if not obj.deletable:
                raise dml(
                    "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be deleted: {obj.label}"
                )
            current = self._existing(obj, record_id)
            if current["Id"] in self.locked:
                raise dml("UNABLE_TO_LOCK_ROW", _LOCK_MESSAGE.format(current["Id"]))
            self._soft_delete(obj.name, current, ctx)

    def upsert(
        self, sobject: str, field_name: str, value: str, data: Mapping[str, Any], ctx: WriteContext
    ) -> tuple[str, bool]:
        """Creates or updates by an external id field; (id, created)."""
        obj = self.obj(sobject)
        f = obj.field(field_name)
        if f is None or not (f.external_id or f.name == "Id"):
            raise ApiError(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {field_name}",
            )
        matches = self.match_external(obj, f, value)
        if len(matches) > 1:
            raise ApiError(300, "MULTIPLE_CHOICES", "", None, {"ids": [m["Id"] for m in matches]})
        body = {k: v for k, v in data.items() if k.lower() != f.name.lower()}
        if matches:
            self.update(obj.name, matches[0]["Id"], body, ctx)
            return matches[0]["Id"], False
        if f.name != "Id":
            body[f.name] = value
        return self.create(obj.name, body, ctx), True

    def match_external(self, obj: ObjectDef, f: FieldDef, value: str) -> list[dict[str, Any]]:
        if f.name == "Id":
            row = self.find(obj.name, value)
            return [row] if row is not None and not row["IsDeleted"] else []
        needle = str(value).lower()
        return [
            row
            for row in self.live(obj.name)
            if row.get(f.name) is not None and str(row[f.name]).lower() == needle
        ]

    def _existing(self, obj: ObjectDef, record_id: str) -> dict[str, Any]:
        full = ids.to18(record_id)
        if full is None:
            raise dml("MALFORMED_ID", f"{obj.label} ID: id value of incorrect type: {record_id}")
        row = self.tables[obj.name].get(full)
        if row is None:
            raise not_found()
        if row["IsDeleted"]:
            raise deleted()
        return row

    def _soft_delete(self, sobject: str, row: dict[str, Any], ctx: WriteContext) -> None:
        if row["IsDeleted"]:
            return
        gone = dict(row)
        stamp = self.now()
        gone.update(
            IsDeleted=True,
            SystemModstamp=stamp,
            LastModifiedDate=stamp,
            LastModifiedById=ctx.user_id,
        )
        self._put(sobject, gone)
        record_id = row["Id"]
        # A note and its document are one record seen through two objects.
        if sobject in ("ContentNote", "ContentDocument"):
            twin = "ContentDocument" if sobject == "ContentNote" else "ContentNote"
            if record_id in self.tables[twin]:
                self._soft_delete(twin, self.tables[twin][record_id], ctx)
        for child, ref in _CASCADES.get(sobject, ()):
            for other in list(self.live(child)):
                if other.get(ref) == record_id:
                    self._soft_delete(child, other, ctx)
        for child, ref in (("ContentDocumentLink", "LinkedEntityId"), ("Note", "ParentId")):
            for other in list(self.live(child)):
                if other.get(ref) == record_id:
                    self._soft_delete(child, other, ctx)

    # ----- Validation --------------------------------------------------------------

    def _coerce(
        self, obj: ObjectDef, data: Mapping[str, Any], *, creating: bool, ctx: WriteContext
    ) -> tuple[dict[str, Any], bytes | None]:
        if not isinstance(data, Mapping):
            raise ApiError(
                400,
                "JSON_PARSER_ERROR",
                "Cannot deserialize instance of sObject from a non-object value",
            )
        values: dict[str, Any] = {}
        blob: bytes | None = None
        forbidden: list[str] = []
        for key, raw in data.items():
            if key == "attributes":
                continue
            f = obj.field(key)
            if f is None:
                raise ApiError(
                    400, "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}"
                )
            allowed = f.createable if creating else f.updateable
            if not allowed and not ctx.trusted:
                forbidden.append(f.name)
                continue
            if f.type == "base64":
                blob = _decode_base64(f, raw)
                values[f.name] = None if blob is None else "blob"
                continue
            values[f.name] = self._coerce_value(obj, f, raw)
        if forbidden:
            raise dml(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(forbidden)}. Please check "
                "the security settings of this field and verify that it is read/write "
                "for your profile or permission set.",
                forbidden,
            )
        return values, blob

    def _coerce_value(self, obj: ObjectDef, f: FieldDef, raw: Any) -> Any:
        label = f.display_label
        if raw is None:
            return False if f.type == "boolean" else None
        kind = f.type

        def parse_error() -> ApiError:
            java = {
                "boolean": "boolean",
                "int": "int",
                "double": "double",
                "currency": "double",
                "percent": "double",
                "date": "date",
                "datetime": "datetime",
            }.get(kind, "string")
            return ApiError(
                400,
                "JSON_PARSER_ERROR",
                f"Cannot deserialize instance of {java} from "
                f"{_json_kind(raw)} value {raw} or request may be missing a "
                f"required field at [line:1, column:{len(str(raw)) + 2}]",
            )

        if kind in STRING_TYPES:
            if isinstance(raw, (dict, list)):
                raise parse_error()
            text = ("true" if raw else "false") if isinstance(raw, bool) else str(raw)
            if text == "":
                return None
            if kind == "email" and not _EMAIL_RE.match(text):
                raise dml(
                    "INVALID_EMAIL_ADDRESS", f"{label}: invalid email address: {text}", [f.name]
                )
            return text
        if kind == "boolean":
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.lower() in ("true", "false"):
                return raw.lower() == "true"
            raise parse_error()
        if kind == "int":
            if isinstance(raw, bool):
                raise parse_error()
            try:
                number = float(raw)
            except (TypeError, ValueError):
                raise parse_error() from None
            if number != int(number):
                raise parse_error()
            return int(number)
        if kind in ("double", "currency", "percent"):
            if isinstance(raw, bool):
                raise parse_error()
            try:
                return float(raw)
            except (TypeError, ValueError):
                raise parse_error() from None
        if kind == "date":
            text = str(raw)
            if _DATE_RE.match(text[:10]) and (len(text) == 10 or parse_datetime(text)):
                try:
                    return date.fromisoformat(text[:10]).isoformat()
                except ValueError:
                    pass
            raise parse_error()
        if kind == "datetime":
            moment = parse_datetime(str(raw))
            if moment is None:
                raise parse_error()
            return sf_datetime(moment)
        if kind in ("reference", "id"):
            if raw == "":
                return None
            full = ids.to18(str(raw))
            if full is None:
                raise dml("MALFORMED_ID", f"{label}: id value of incorrect type: {raw}", [f.name])
            return full
        return raw

    def _check(
        self,
        obj: ObjectDef,
        row: dict[str, Any],
        values: Mapping[str, Any],
        *,
        creating: bool,
        ctx: WriteContext,
    ) -> None:
        missing = [
            f.name
            for f in obj.fields.values()
            if f.required and row.get(f.name) in (None, "") and (creating or f.name in values)
        ]
        if missing:
            raise dml(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )
        for name, value in values.items():
            f = obj.fields[name.lower()]
            label = f.display_label
            if value is None:
                continue
            if f.type in STRING_TYPES and f.length and _text_length(value) > f.length:
                raise dml(
                    "STRING_TOO_LONG",
                    f"{label}: data value too large: {value[:200]} (max length={f.length})",
                    [f.name],
                )
            if f.type == "picklist" and f.restricted and value not in f.picklist:
                raise dml(
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    f"{label}: bad value for restricted picklist field: {value}",
                    [f.name],
                )
            if f.type == "reference":
                self._check_reference(obj, f, label, value)
                if value in self.locked:
                    raise dml("UNABLE_TO_LOCK_ROW", _LOCK_MESSAGE.format(value))

    def _check_reference(self, obj: ObjectDef, f: FieldDef, label: str, value: str) -> None:
        for target in f.reference_to:
            row = self.tables.get(target, {}).get(value)
            if row is not None and not row["IsDeleted"]:
                if f.name == "OwnerId" and not row.get("IsActive", True):
                    raise dml(
                        "INACTIVE_OWNER_OR_USER",
                        f"operation performed with inactive user [{value}] as owner of "
                        f"{obj.label.lower()}",
                        [],
                    )
                if target == "Lead" and row.get("IsConverted"):
                    # A converted lead can be neither written nor pointed at (a Task's
                    # WhoId, a file's LinkedEntityId, ...): SOAP API Developer Guide,
                    # StatusCode CANNOT_UPDATE_CONVERTED_LEAD, "cannot reference
                    # converted lead".
                    raise dml(
                        "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", [f.name]
                    )
                return
        found = self.record_of(value)
        if found is not None and found[0] not in f.reference_to and not found[1]["IsDeleted"]:
            raise dml(
                "INVALID_CROSS_REFERENCE_KEY",
                f"{label}: id value of incorrect type: {value}",
                [f.name],
            )
        raise dml("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [f.name])

    def _derive(
        self,
        obj: ObjectDef,
        row: dict[str, Any],
        blob: bytes | None,
        ctx: WriteContext,
        given: set[str] | frozenset[str] = frozenset(),
    ) -> None:
        """Fills the fields Salesforce computes; ``given`` names the fields this write set."""
        name = obj.name
        if name in ("Contact", "Lead", "User"):
            row["Name"] = " ".join(p for p in (row.get("FirstName"), row.get("LastName")) if p)
        elif name == "Opportunity":
            stage = row.get("StageName") or ""
            row["IsClosed"] = stage.startswith("Closed")
            row["IsWon"] = stage == "Closed Won"
        elif name == "Task":
            row["IsClosed"] = row.get("Status") == "Completed"
            if row.get("TaskSubtype") is None:
                row["TaskSubtype"] = "Task"
            row["AccountId"] = self._activity_account(row)
        elif name == "Event":
            self._derive_event(row, given)
            if row.get("EventSubtype") is None:
                row["EventSubtype"] = "Event"
            row["AccountId"] = self._activity_account(row)
        elif name == "ContentNote" and blob is not None:
            text = re.sub(r"<[^>]+>", " ", blob.decode("utf-8", "replace"))
            preview = " ".join(html.unescape(text).split())
            row.update(TextPreview=preview[:255] or None, ContentSize=len(blob))
        if name == "ContentNote":
            row.update(FileType="SNOTE", FileExtension="snote")
            if row.get("Content") is not None:
                row["Content"] = (
                    f"/services/data/v{ctx.api_version}/sobjects/ContentNote/{row['Id']}/Content"
                )
            if row.get("ContentSize") is None:
                row["ContentSize"] = 0
        if name in ("TaskRelation", "EventRelation") and row.get("RelationId"):
            found = self.record_of(row["RelationId"])
            row["IsWhat"] = bool(found and found[0] not in ("Contact", "Lead", "User"))

    def _activity_account(self, row: Mapping[str, Any]) -> str | None:
        account_id: str | None = None
        what = self.record_of(row["WhatId"]) if row.get("WhatId") else None
        who = self.record_of(row["WhoId"]) if row.get("WhoId") else None
        if what and what[0] == "Account":
            account_id = what[1]["Id"]
        elif what and what[0] == "Opportunity" and what[1].get("AccountId"):
            account_id = what[1]["AccountId"]
        elif who and who[0] == "Contact":
            account_id = who[1].get("AccountId")
        return account_id

    def _derive_event(self, row: dict[str, Any], given: set[str] | frozenset[str]) -> None:
        # DurationInMinutes and EndDateTime describe the same thing: a write may give
        # either, or both when they add up to the same time (Object Reference, Event).
        # The one this write gives wins over the value stored before it.
        end_given = "EndDateTime" in given and row.get("EndDateTime") is not None
        duration_given = "DurationInMinutes" in given and row.get("DurationInMinutes") is not None
        if row.get("IsAllDayEvent"):
            day = row.get("ActivityDate") or (row.get("StartDateTime") or "")[:10] or None
            if day is None:
                raise dml(
                    "REQUIRED_FIELD_MISSING",
                    "Required fields are missing: [ActivityDate]",
                    ["ActivityDate"],
                )
            start = datetime.fromisoformat(day).replace(tzinfo=UTC)
            if duration_given and not end_given:
                days = max(1, -(-row["DurationInMinutes"] // 1440))
            else:
                end_day = (row.get("EndDateTime") or "")[:10] or day
                days = (datetime.fromisoformat(end_day).replace(tzinfo=UTC) - start).days + 1
            if days < 1:
                raise dml(
                    "FIELD_INTEGRITY_EXCEPTION",
                    "End Date Time: End time can't be before start time.",
                    ["EndDateTime"],
                )
            if end_given and duration_given and row["DurationInMinutes"] != 1440 * days:
                raise _duration_mismatch()
            row.update(
                ActivityDate=day,
                StartDateTime=sf_datetime(start),
                ActivityDateTime=sf_datetime(start),
                EndDateTime=sf_datetime(start + timedelta(days=days - 1)),
                DurationInMinutes=1440 * days,
            )
            return
        if "ActivityDateTime" in given and "StartDateTime" not in given:
            start_text = row.get("ActivityDateTime")
        else:
            start_text = row.get("StartDateTime") or row.get("ActivityDateTime")
        if start_text is None:
            raise dml(
                "REQUIRED_FIELD_MISSING",
                "Required fields are missing: [ActivityDateTime]",
                ["ActivityDateTime"],
            )
        start = _stored_datetime(start_text)
        end_text = row.get("EndDateTime")
        if duration_given and not end_given:
            end = start + timedelta(minutes=row["DurationInMinutes"])
        elif end_text is not None:
            end = _stored_datetime(end_text)
            if duration_given and end - start != timedelta(minutes=row["DurationInMinutes"]):
                raise _duration_mismatch()
        elif row.get("DurationInMinutes") is not None:
            end = start + timedelta(minutes=row["DurationInMinutes"])
        else:
            raise dml(
                "REQUIRED_FIELD_MISSING",
                "Required fields are missing: [DurationInMinutes]",
                ["DurationInMinutes"],
            )
        if end < start:
            raise dml(
                "FIELD_INTEGRITY_EXCEPTION",
                "End Date Time: End time can't be before start time.",
                ["EndDateTime"],
            )
        if end - start > timedelta(days=14):
            raise dml(
                "FIELD_INTEGRITY_EXCEPTION", "Event duration can't exceed 14 days.", ["EndDateTime"]
            )
        row.update(
            StartDateTime=sf_datetime(start),
            ActivityDateTime=sf_datetime(start),
            EndDateTime=sf_datetime(end),
            ActivityDate=start.date().isoformat(),
            DurationInMinutes=int((end - start).total_seconds() // 60),
        )

    def _rules(
        self, obj: ObjectDef, row: dict[str, Any], ctx: WriteContext, *, creating: bool
    ) -> None:
        name = obj.name
        if name in ("Task", "Event"):
            self._activity_who_rules(row)
        if name in ("TaskRelation", "EventRelation"):
            self._relation_rules(obj, row, creating=creating)
        if name == "ContentDocumentLink" and creating:
            for other in self.live_children(name, row["ContentDocumentId"]):
                if (
                    other["ContentDocumentId"] == row["ContentDocumentId"]
                    and other["LinkedEntityId"] == row["LinkedEntityId"]
                ):
                    raise dml(
                        "DUPLICATE_VALUE",
                        "Document with ID: "
                        + row["ContentDocumentId"]
                        + " is already linked with the entity with ID: "
                        + row["LinkedEntityId"],
                        ["LinkedEntityId"],
                    )
        for f in obj.fields.values():
            if f.unique and row.get(f.name) is not None:
                needle = str(row[f.name]).lower()
                for other in self.live(name):
                    if other["Id"] != row["Id"] and str(other.get(f.name) or "").lower() == needle:
                        raise dml(
                            "DUPLICATE_VALUE",
                            f"duplicate value found: {f.name} duplicates value on record "
                            f"with id: {other['Id']}",
                            [f.name],
                        )
        if name in self.duplicate_rules and not ctx.allow_duplicates and row.get("Email"):
            email = row["Email"].lower()
            matches = [
                o
                for o in self.live(name)
                if o["Id"] != row["Id"] and (o.get("Email") or "").lower() == email
            ]
            if matches:
                raise DuplicatesDetected(self._duplicate_result(name, matches, ctx))
        for rule in self.validation_rules:
            if rule.sobject == name and rule.fires(row):
                raise dml(
                    "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                    rule.message,
                    [rule.field] if rule.field else [],
                )

    def _activity_who_rules(self, row: dict[str, Any]) -> None:
        """Object Reference, Task and Event, WhoId: "If the WhoId refers to a lead, then the
        WhatId field must be empty" -- a lead is not related to other records; Salesforce
        refuses the pair with FIELD_INTEGRITY_EXCEPTION on WhoId and WhatId."""
        who = self.record_of(row["WhoId"]) if row.get("WhoId") else None
        if who is not None and who[0] == "Lead" and row.get("WhatId"):
            raise dml(
                "FIELD_INTEGRITY_EXCEPTION",
                "Related To ID: You can't relate an activity whose Name is a lead to "
                "another record; leave Related To empty.",
                ["WhoId", "WhatId"],
            )

    def _relation_rules(self, obj: ObjectDef, row: dict[str, Any], *, creating: bool) -> None:
        parent_field = "TaskId" if obj.name == "TaskRelation" else "EventId"
        found = self.record_of(row["RelationId"]) if row.get("RelationId") else None
        kind = found[0] if found else None
        if obj.name == "EventRelation":
            if kind == "User":
                row["IsInvitee"] = True
                row["IsParent"] = False
            elif kind in ("Contact", "Lead"):
                if not row.get("IsParent") and not row.get("IsInvitee"):
                    row["IsInvitee"] = True
                if not self.shared_activities and (row.get("IsParent") or not row["IsInvitee"]):
                    raise dml(
                        "FIELD_INTEGRITY_EXCEPTION",
                        "Contacts and leads can be non-invitee relations only when "
                        "Shared Activities is enabled.",
                        ["IsParent"],
                    )
            else:
                row["IsParent"] = True
                row["IsInvitee"] = False
        elif kind in ("Contact", "Lead") and not self.shared_activities:
            raise dml(
                "FIELD_INTEGRITY_EXCEPTION",
                "Task relations to contacts and leads need Shared Activities.",
                ["RelationId"],
            )
        if creating:
            self._lead_relation_rules(obj.name, parent_field, row, kind)
            for other in self.live_children(obj.name, row[parent_field]):
                if (
                    other[parent_field] == row[parent_field]
                    and other["RelationId"] == row["RelationId"]
                ):
                    raise dml(
                        "DUPLICATE_VALUE",
                        "duplicate value found: RelationId duplicates value on record "
                        f"with id: {other['Id']}",
                        ["RelationId"],
                    )
        if (
            kind in ("Contact", "Lead")
            and sum(
                1
                for other in self.live_children(obj.name, row[parent_field])
                if other[parent_field] == row[parent_field]
                and other["Id"] != row["Id"]
                and not other["IsWhat"]
                and (obj.name == "TaskRelation" or other["IsParent"])
            )
            >= 50
        ):
            raise dml(
                "FIELD_INTEGRITY_EXCEPTION",
                "You can't relate more than 50 contacts or leads to an activity.",
                [],
            )

    def _lead_relation_rules(
        self, relation: str, parent_field: str, row: dict[str, Any], kind: str | None
    ) -> None:
        """Object Reference, TaskRelation and EventRelation: an activity is related to "one
        lead or up to 50 contacts", and (Task, WhoId) an activity whose Who is a lead has no
        What. So a lead relation cannot join a contact, another lead or a What relation of
        the same activity, nor those join a lead. Event invitees (IsParent false) are not
        Who relations and are not concerned."""
        if kind == "User" or (relation == "EventRelation" and not row.get("IsParent")):
            return
        kinds: set[str] = set()
        for other in self.live_children(relation, row[parent_field]):
            if other[parent_field] != row[parent_field] or other["Id"] == row.get("Id"):
                continue
            if relation == "EventRelation" and not other.get("IsParent"):
                continue
            found = self.record_of(other["RelationId"])
            if found is not None and found[0] != "User":
                kinds.add(found[0] if found[0] in ("Contact", "Lead") else "What")
        mine = kind if kind in ("Contact", "Lead") else "What"
        if (mine == "Lead" and kinds) or (mine != "Lead" and "Lead" in kinds):
            raise dml(
                "FIELD_INTEGRITY_EXCEPTION",
                "An activity can be related to one lead or up to 50 contacts; an activity "
                "related to a lead can't be related to other records.",
                ["RelationId"],
            )

    def _duplicate_result(
        self, sobject: str, matches: list[dict[str, Any]], ctx: WriteContext
    ) -> dict[str, Any]:
        records_url = f"/services/data/v{ctx.api_version}/sobjects/{sobject}"
        return {
            "allowSave": False,
            "duplicateRule": f"Standard_{sobject}_Duplicate_Rule",
            "duplicateRuleEntityType": sobject,
            "errorMessage": "Use one of these records?",
            "matchResults": [
                {
                    "entityType": sobject,
                    "errors": [],
                    "matchEngine": "ExactMatchEngine",
                    "matchRecords": [
                        {
                            "additionalInformation": [],
                            "fieldDiffs": [],
                            "matchConfidence": 100.0,
                            "record": {
                                "attributes": {
                                    "type": sobject,
                                    "url": f"{records_url}/{m['Id']}",
                                },
                                "Id": m["Id"],
                            },
                        }
                        for m in matches
                    ],
                    "rule": f"Standard_{sobject}_Match_Rule_v1_0",
                    "size": len(matches),
                    "success": True,
                }
            ],
        }

    def _after_create(
        self, obj: ObjectDef, row: dict[str, Any], blob: bytes | None, ctx: WriteContext
    ) -> None:
        if obj.name == "ContentNote":
            if blob is not None:
                self.blobs[row["Id"]] = blob
            doc = {f.name: None for f in self.objects["ContentDocument"].fields.values()}
            doc.update({k: row[k] for k in doc if k in row})
            self._put("ContentDocument", doc)
            self.index[row["Id"]] = "ContentDocument"
        if obj.name in ("Task", "Event") and self.shared_activities:
            self._sync_relations(obj.name, row, ctx)

    def _after_update(self, obj: ObjectDef, row: dict[str, Any], blob: bytes | None) -> None:
        if obj.name == "ContentNote":
            if blob is not None:
                self.blobs[row["Id"]] = blob
            doc = dict(self.tables["ContentDocument"][row["Id"]])
            doc.update({k: row[k] for k in doc if k in row and k != "Description"})
            self._put("ContentDocument", doc)

    def _sync_relations(self, sobject: str, row: dict[str, Any], ctx: WriteContext) -> None:
        """With Shared Activities, the Who and What of an activity are also relations."""
        relation = "TaskRelation" if sobject == "Task" else "EventRelation"
        parent_field = "TaskId" if sobject == "Task" else "EventId"
        for ref, is_what in (("WhoId", False), ("WhatId", True)):
            if not row.get(ref):
                continue
            rel: dict[str, Any] = {f.name: None for f in self.objects[relation].fields.values()}
            stamp = row["CreatedDate"]
            rel.update(
                Id=self.id_factory.new(self.objects[relation].key_prefix),
                IsDeleted=False,
                CreatedDate=stamp,
                LastModifiedDate=stamp,
                SystemModstamp=stamp,
                CreatedById=ctx.user_id,
                LastModifiedById=ctx.user_id,
                RelationId=row[ref],
                IsWhat=is_what,
            )
            rel[parent_field] = row["Id"]
            if relation == "EventRelation":
                rel.update(IsParent=True, IsInvitee=False, Status="New")
            self._put(relation, rel)

    # ----- Lead conversion ----------------------------------------------------------

    def convert_lead(
        self,
        lead_id: str,
        *,
        account_id: str | None = None,
        contact_id: str | None = None,
        create_opportunity: bool = True,
        opportunity_name: str | None = None,
        converted_status: str = CONVERTED_LEAD_STATUS,
        overwrite_lead_source: bool = False,
    ) -> dict[str, str | None]:
        """Converts a lead as convertLead() does (SOAP API Developer Guide, "convertLead()";
        Apex "LeadConvert Class"); the REST API has no such call, so this is reached from
        the control API and the test handle only. Answers the LeadConvertResult ids.

        - A new Account is made from the lead (Name from Company, Phone, Fax) unless
          ``account_id`` names one; a new Contact (names, Email, phones, Title, LeadSource,
          Description) under that account unless ``contact_id`` names one, which then must
          belong to ``account_id`` ("this contact must be associated with the specified
          accountId, and an accountId must be specified").
        - Into an existing account or contact, only empty fields are filled ("only empty
          fields in the target object are overwritten"), LeadSource too when
          ``overwrite_lead_source``.
        - Unless ``create_opportunity`` is false (doNotCreateOpportunity), an Opportunity
          named ``opportunity_name`` or, by default, the lead's company, at the first stage,
          closing today.
        - The new records are owned by the lead's owner; the lead's activities move to the
          contact (and to the opportunity, or else the account, as their Related To).
        - The lead: IsConverted true, ConvertedAccountId, ConvertedContactId,
          ConvertedOpportunityId, ConvertedDate today, Status the converted status (one of
          the org's LeadStatus values with IsConverted true). A converted lead cannot be
          converted again nor updated (CANNOT_UPDATE_CONVERTED_LEAD).
        """
        with self.transaction():
            mark = self.savepoint()
            try:
                return self._convert_lead(
                    lead_id,
                    account_id,
                    contact_id,
                    create_opportunity,
                    opportunity_name,
                    converted_status,
                    overwrite_lead_source,
                )
            except ApiError:
                self.rollback_to(mark)
                raise

    def _convert_lead(
        self,
        lead_id: str,
        account_id: str | None,
        contact_id: str | None,
        create_opportunity: bool,
        opportunity_name: str | None,
        converted_status: str,
        overwrite_lead_source: bool,
    ) -> dict[str, str | None]:
        lead = self._existing(self.obj("Lead"), lead_id)
        if lead["IsConverted"]:
            raise dml("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", [])
        if converted_status not in CONVERTED_LEAD_STATUSES:
            raise dml("INVALID_STATUS", f"invalid convertedStatus: {converted_status}", [])
        ctx = WriteContext(user_id=lead["OwnerId"] or self.admin_user_id, trusted=True)
        source = {"LeadSource": lead.get("LeadSource")}
        account_fields = {
            "Name": lead.get("Company"),
            "Phone": lead.get("Phone"),
            "Fax": lead.get("Fax"),
        }
        if account_id:
            account = self._existing(self.obj("Account"), account_id)
            self._fill_empty("Account", account, account_fields, ctx)
            account_id = account["Id"]
        else:
            account_id = self.create("Account", _present(account_fields), ctx)
        contact_fields = {
            name: lead.get(name)
            for name in (
                "FirstName",
                "LastName",
                "Email",
                "Phone",
                "MobilePhone",
                "Fax",
                "Title",
                "LeadSource",
                "Description",
            )
        }
        if contact_id:
            contact = self._existing(self.obj("Contact"), contact_id)
            if contact.get("AccountId") != account_id:
                raise dml(
                    "INVALID_CROSS_REFERENCE_KEY",
                    "The contact to merge into must belong to the account given (accountId).",
                    ["contactId"],
                )
            self._fill_empty("Contact", contact, contact_fields, ctx)
            if overwrite_lead_source and source["LeadSource"]:
                self.update("Contact", contact["Id"], source, ctx)
            contact_id = contact["Id"]
        else:
            contact_id = self.create(
                "Contact", _present(dict(contact_fields, AccountId=account_id)), ctx
            )
        opportunity_id: str | None = None
        if create_opportunity:
            opportunity_id = self.create(
                "Opportunity",
                _present(
                    {
                        "Name": opportunity_name or lead["Company"],
                        "StageName": self.objects["Opportunity"].fields["stagename"].picklist[0],
                        "CloseDate": date.today().isoformat(),
                        "AccountId": account_id,
                        "LeadSource": lead.get("LeadSource"),
                    }
                ),
                ctx,
            )
        self._move_lead_activities(lead["Id"], contact_id, opportunity_id or account_id, ctx)
        converted = dict(self.tables["Lead"][lead["Id"]])
        stamp = self.now()
        converted.update(
            IsConverted=True,
            ConvertedAccountId=account_id,
            ConvertedContactId=contact_id,
            ConvertedOpportunityId=opportunity_id,
            ConvertedDate=date.today().isoformat(),
            Status=converted_status,
            LastModifiedDate=stamp,
            SystemModstamp=stamp,
            LastModifiedById=ctx.user_id,
        )
        self._put("Lead", converted)
        return {
            "leadId": lead["Id"],
            "accountId": account_id,
            "contactId": contact_id,
            "opportunityId": opportunity_id,
        }

    def _fill_empty(
        self, sobject: str, row: Mapping[str, Any], values: Mapping[str, Any], ctx: WriteContext
    ) -> None:
        empty = {k: v for k, v in values.items() if v not in (None, "") and row.get(k) is None}
        if empty:
            self.update(sobject, row["Id"], empty, ctx)

    def _move_lead_activities(
        self, lead_id: str, contact_id: str, what_id: str, ctx: WriteContext
    ) -> None:
        for sobject in ("Task", "Event"):
            relation = sobject + "Relation"
            parent_field = "TaskId" if sobject == "Task" else "EventId"
            for activity in list(self.live(sobject)):
                if activity.get("WhoId") != lead_id:
                    continue
                moved = dict(activity, WhoId=contact_id, WhatId=activity.get("WhatId") or what_id)
                moved["AccountId"] = self._activity_account(moved)
                self._put(sobject, moved)
                if not self.shared_activities:
                    continue
                for rel in list(self.live(relation)):
                    if rel[parent_field] == activity["Id"] and rel["RelationId"] == lead_id:
                        self._put(relation, dict(rel, RelationId=contact_id))
                if not activity.get("WhatId"):
                    rel = {f.name: None for f in self.objects[relation].fields.values()}
                    stamp = self.now()
                    rel.update(
                        Id=self.id_factory.new(self.objects[relation].key_prefix),
                        IsDeleted=False,
                        CreatedDate=stamp,
                        LastModifiedDate=stamp,
                        SystemModstamp=stamp,
                        CreatedById=ctx.user_id,
                        LastModifiedById=ctx.user_id,
                        RelationId=what_id,
                        IsWhat=True,
                    )
                    rel[parent_field] = activity["Id"]
                    if relation == "EventRelation":
                        rel.update(IsParent=True, IsInvitee=False, Status="New")
                    self._put(relation, rel)

    # ----- Administration ---------------------------------------------------------

    def add_field(
        self,
        sobject: str,
        name: str,
        *,
        type: str = "string",
        length: int = 255,
        external_id: bool = False,
        unique: bool = False,
        label: str | None = None,
        picklist: tuple[str, ...] = (),
        reference_to: tuple[str, ...] = (),
        nillable: bool = True,
    ) -> None:
        with self.lock:
            obj = self.obj(sobject).copy()
            rel = name[:-3] + "__r" if name.endswith("__c") and reference_to else None
            obj.fields[name.lower()] = FieldDef(
                name,
                type,
                label=label or "",
                length=length if type in STRING_TYPES else 0,
                external_id=external_id,
                unique=unique,
                custom=name.endswith("__c"),
                picklist=tuple(picklist),
                reference_to=tuple(reference_to),
                relationship_name=rel,
                nillable=nillable,
            )
            self.objects = dict(self.objects)
            self.objects[obj.name] = obj
            for row in self.tables[obj.name].values():
                row.setdefault(name, None)
            spec = {
                "sobject": obj.name,
                "name": name,
                "type": type,
                "length": length,
                "external_id": external_id,
                "unique": unique,
                "label": label,
                "picklist": list(picklist),
                "reference_to": list(reference_to),
                "nillable": nillable,
            }
            self.custom_fields = [
                c for c in self.custom_fields if (c["sobject"], c["name"]) != (obj.name, name)
            ] + [spec]
            self._dirty = True

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "shared_activities": self.shared_activities,
            "admin_user_id": self.admin_user_id,
            "my_domain": self.my_domain,
            "api_max": self.api_max,
            "api_calls": self.api_calls,
            "query_batch_size": self.query_batch_size,
            "custom_fields": self.custom_fields,
            "duplicate_rules": sorted(self.duplicate_rules),
            "records": {name: list(table.values()) for name, table in self.tables.items() if table},
            "blobs": {k: base64.b64encode(v).decode() for k, v in self.blobs.items()},
        }

    def load_json(self, data: Mapping[str, Any]) -> None:
        for spec in data.get("custom_fields", []):
            spec = dict(spec)
            self.add_field(spec.pop("sobject"), spec.pop("name"), **spec)
        for name, rows in data.get("records", {}).items():
            if name not in self.tables:
                continue
            defaults = {f.name: None for f in self.objects[name].fields.values()}
            for row in rows:
                # Rows saved before a field was added to the object read as null there.
                row = {**defaults, **row}
                self._by_parent_move(name, row["Id"], self.tables[name].get(row["Id"]), row)
                self.tables[name][row["Id"]] = row
                if name != "ContentNote" or row["Id"] not in self.index:
                    self.index[row["Id"]] = name
        self.blobs = {k: base64.b64decode(v) for k, v in data.get("blobs", {}).items()}
        self.duplicate_rules = set(data.get("duplicate_rules", []))


# The objects whose rows `live_children` finds by their parent's Id, and that field.
_BY_PARENT: dict[str, str] = {
    "EventRelation": "EventId",
    "TaskRelation": "TaskId",
    "ContentDocumentLink": "ContentDocumentId",
}

_CASCADES: dict[str, tuple[tuple[str, str], ...]] = {
    "Account": (("Contact", "AccountId"), ("Opportunity", "AccountId")),
    "Contact": (
        ("OpportunityContactRole", "ContactId"),
        ("TaskRelation", "RelationId"),
        ("EventRelation", "RelationId"),
    ),
    "Lead": (("TaskRelation", "RelationId"), ("EventRelation", "RelationId")),
    "Opportunity": (("OpportunityContactRole", "OpportunityId"),),
    "Task": (("TaskRelation", "TaskId"),),
    "Event": (("EventRelation", "EventId"),),
    "ContentDocument": (("ContentDocumentLink", "ContentDocumentId"),),
    "ContentNote": (("ContentDocumentLink", "ContentDocumentId"),),
}


def _present(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values that are set (a write leaves the others to their defaults)."""
    return {k: v for k, v in values.items() if v not in (None, "")}


def _text_length(value: str) -> int:
    """A text field's length as Salesforce measures it: in UTF-16 code units, as Java
    strings count, so a character outside the Basic Multilingual Plane (an emoji) counts
    twice."""
    return len(value) + sum(1 for char in value if ord(char) > 0xFFFF)


def _stored_datetime(text: str) -> datetime:
    """A datetime this store wrote back to a ``datetime``: ``_coerce_value`` already
    refused any value that does not parse, so failing here is a bug in the store."""
    moment = parse_datetime(text)
    if moment is None:
        raise ValueError(f"not a datetime the store wrote: {text!r}")
    return moment


def _duration_mismatch() -> ApiError:
    return dml(
        "FIELD_INTEGRITY_EXCEPTION",
        "Duration: DurationInMinutes and EndDateTime don't add up to the same time.",
        ["DurationInMinutes", "EndDateTime"],
    )


def _json_kind(raw: Any) -> str:
    if isinstance(raw, bool):
        return "VALUE_TRUE" if raw else "VALUE_FALSE"
    if isinstance(raw, str):
        return "VALUE_STRING"
    if isinstance(raw, (int, float)):
        return "VALUE_NUMBER_INT" if isinstance(raw, int) else "VALUE_NUMBER_FLOAT"
    return "START_OBJECT" if isinstance(raw, dict) else "START_ARRAY"


def _decode_base64(f: FieldDef, raw: Any) -> bytes | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise ApiError(
            400,
            "JSON_PARSER_ERROR",
            f"Cannot deserialize instance of base64 from {_json_kind(raw)} value",
        )
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise dml("INVALID_FIELD", f"{f.name}: invalid base64 value", [f.name]) from None
