"""The REST resources under ``/services/data/vNN.N/``."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from werkzeug.datastructures import Headers

from .errors import ApiError, not_found
from .registry import Session
from .store import Org, WriteContext

MIN_VERSION, MAX_VERSION = 50, 64
VERSIONS = [f"{v}.0" for v in range(MIN_VERSION, MAX_VERSION + 1)]
_VERSION_RE = re.compile(r"^/services/data/v(\d{2,3}\.\d)(/.*)?$")
_CHILD_RELATIONSHIPS = {
    "Contact": "Contacts",
    "Opportunity": "Opportunities",
    "Task": "Tasks",
    "Event": "Events",
    "TaskRelation": "TaskRelations",
    "EventRelation": "EventRelations",
    "ContentDocumentLink": "ContentDocumentLinks",
    "Note": "Notes",
    "OpportunityContactRole": "OpportunityContactRoles",
}
# Object Reference, ContentDocumentLink: without Query All Files, a query needs a filter
# on Id, LinkedEntityId or ContentDocumentId.
_CDL_FILTER = re.compile(
    r"(?<![.\w])(ContentDocumentId|LinkedEntityId|Id)\s*(=|\bIN\b)", re.IGNORECASE
)


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # a non-JSON body (note content)


@dataclass
class Call:
    org: Org
    session: Session
    method: str
    version: str
    path: str  # after the version, e.g. "/sobjects/Account"
    params: dict[str, list[str]]
    body: Any
    headers: Headers  # case-insensitive, as HTTP header names are

    def param(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None

    def ctx(self) -> WriteContext:
        dup = self.headers.get("Sforce-Duplicate-Rule-Header", "") or ""
        return WriteContext(
            user_id=self.session.user_id,
            api_version=self.version,
            allow_duplicates="allowsave=true" in dup.replace(" ", "").lower(),
        )


def version_label(version: str) -> str:
    number = int(float(version))
    # Version 50.0 shipped in Winter '21; three releases a year.
    index = number - 50
    season = ("Winter", "Spring", "Summer")[index % 3]
    year = 21 + index // 3
    return f"{season} '{year:02d}"


def versions_body() -> list[dict[str, str]]:
    return [
        {"label": version_label(v), "url": f"/services/data/v{v}", "version": v} for v in VERSIONS
    ]


def split_url(url: str) -> tuple[str, str, dict[str, list[str]]]:
    """(version, path after the version, query parameters) of a REST URL."""
    parts = urlsplit(url)
    match = _VERSION_RE.match(parts.path)
    if not match or match.group(1) not in VERSIONS:
        raise not_found()
    return match.group(1), match.group(2) or "", parse_qs(parts.query, keep_blank_values=True)


def handle(call: Call) -> Reply:
    segments = [unquote(s) for s in call.path.strip("/").split("/") if s]
    if not segments:
        return Reply(200, _resources(call.version))
    head = segments[0]
    if head == "sobjects":
        return _sobjects(call, segments[1:])
    if head in ("query", "queryAll"):
        return _query(call, segments[1:], include_deleted=head == "queryAll")
    if head == "limits" and len(segments) == 1:
        _allow(call, "GET")
        return Reply(200, _limits(call.org))
    if head == "composite":
        from . import composite

        return composite.handle(call, segments[1:])
    if head == "search" and len(segments) == 1:
        return _search(call)
    raise not_found()


def _search(call: Call) -> Reply:
    """REST API Developer Guide, "Search": ``GET /search/?q=<SOSL>`` answers
    ``{"searchRecords": [...]}``; like any other resource it is one API call."""
    from . import sosl

    _allow(call, "GET")
    statement = call.param("q")
    if not statement:
        raise ApiError(400, "MALFORMED_SEARCH", "A search string has to be specified")
    return Reply(200, {"searchRecords": sosl.search(call.org, statement, call.version)})


def _allow(call: Call, *methods: str) -> None:
    if call.method not in methods:
        allowed = ",".join(methods)
        raise ApiError(
            405,
            "METHOD_NOT_ALLOWED",
            f"HTTP Method '{call.method}' not allowed. Allowed are {allowed}",
        )


def _resources(version: str) -> dict[str, str]:
    base = f"/services/data/v{version}"
    return {
        name: f"{base}/{name}"
        for name in ("sobjects", "query", "queryAll", "composite", "limits", "search", "tooling")
    }


def _limits(org: Org) -> dict[str, Any]:
    remaining = max(org.api_max - org.api_calls, 0)
    return {
        "DailyApiRequests": {"Max": org.api_max, "Remaining": remaining},
        "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
        "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
        "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
        "DataStorageMB": {"Max": 5, "Remaining": 5},
        "FileStorageMB": {"Max": 20, "Remaining": 20},
        "SingleEmail": {"Max": 15, "Remaining": 15},
    }


# ----- sObjects ------------------------------------------------------------------------


def _sobjects(call: Call, rest: list[str]) -> Reply:
    org = call.org
    if not rest:
        _allow(call, "GET")
        return Reply(
            200,
            {
                "encoding": "UTF-8",
                "maxBatchSize": 200,
                "sobjects": [
                    _object_summary(org, name, call.version)
                    for name in sorted(org.objects)
                    if _described(org, name)
                ],
            },
        )
    obj = org.obj(rest[0])
    if len(rest) == 1:
        _allow(call, "GET", "POST")
        if call.method == "GET":
            recent = [
                org.shaped(obj.name, row, call.version, ["Id"])
                for row in list(org.live(obj.name))[-10:]
            ]
            return Reply(
                200,
                {
                    "objectDescribe": _object_summary(org, obj.name, call.version),
                    "recentItems": recent,
                },
            )
        return _create(call, obj.name)
    second = rest[1]
    if len(rest) == 2:
        if second == "describe":
            _allow(call, "GET")
            if not _described(org, obj.name):
                raise not_found()
            return Reply(200, describe(org, obj.name, call.version))
        if second == "Id" and call.method == "POST":
            return _create(call, obj.name)
        return _record(call, obj.name, second)
    if len(rest) == 3:
        f = obj.field(second)
        if f is None and rest[2] == "Content" and obj.name == "ContentNote":
            return _note_content(call, second)
        if f is None or not (f.external_id or f.name == "Id"):
            raise ApiError(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {second}",
            )
        return _by_external_id(call, obj.name, f.name, rest[2])
    raise not_found()


def _object_summary(org: Org, name: str, version: str) -> dict[str, Any]:
    obj = org.objects[name]
    base = f"/services/data/v{version}/sobjects/{name}"
    return {
        "activateable": False,
        "createable": obj.createable,
        "custom": obj.custom,
        "customSetting": False,
        "deletable": obj.deletable,
        "deprecatedAndHidden": False,
        "feedEnabled": name in ("Account", "Contact", "Lead", "Opportunity"),
        "hasSubtypes": False,
        "isSubtype": False,
        "keyPrefix": obj.key_prefix,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "layoutable": True,
        "mergeable": name in ("Account", "Contact", "Lead"),
        "mruEnabled": True,
        "name": name,
        "queryable": True,
        "replicateable": True,
        "retrieveable": True,
        "searchable": True,
        "triggerable": True,
        "undeletable": True,
        "updateable": obj.updateable,
        "urls": {"rowTemplate": base + "/{ID}", "describe": base + "/describe", "sobject": base},
    }


def _described(org: Org, name: str) -> bool:
    """TaskRelation exists only in orgs with Shared Activities (Object Reference for
    Salesforce and Lightning Platform, "TaskRelation": "available if Shared Activities
    is enabled")."""
    return org.shared_activities or name != "TaskRelation"


def _described_fields(org: Org, obj: Any) -> list[dict[str, Any]]:
    """EventRelation's IsParent exists only with Shared Activities (Object Reference,
    "EventRelation", IsParent: "available only if Shared Activities is enabled")."""
    return [
        f.describe()
        for f in obj.fields.values()
        if org.shared_activities or (obj.name, f.name) != ("EventRelation", "IsParent")
    ]


def describe(org: Org, name: str, version: str) -> dict[str, Any]:
    obj = org.objects[name]
    children = []
    for child in org.objects.values():
        for f in child.fields.values():
            if name in f.reference_to and f.relationship_name not in (
                "CreatedBy",
                "LastModifiedBy",
                "Owner",
            ):
                children.append(
                    {
                        "cascadeDelete": child.name
                        in (
                            "OpportunityContactRole",
                            "TaskRelation",
                            "EventRelation",
                            "ContentDocumentLink",
                        ),
                        "childSObject": child.name,
                        "deprecatedAndHidden": False,
                        "field": f.name,
                        "relationshipName": _CHILD_RELATIONSHIPS.get(child.name),
                        "restrictedDelete": False,
                    }
                )
    summary = _object_summary(org, name, version)
    summary.update(
        {
            "childRelationships": children,
            "fields": _described_fields(org, obj),
            "recordTypeInfos": [],
            "supportedScopes": [{"label": "All records", "name": "everything"}],
        }
    )
    return summary


def _create(call: Call, sobject: str) -> Reply:
    body = _json_object(call.body)
    record_id = call.org.create(sobject, body, call.ctx())
    return Reply(
        201,
        {"id": record_id, "success": True, "errors": []},
        {"Location": f"/services/data/v{call.version}/sobjects/{sobject}/{record_id}"},
    )


def _json_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(
            400,
            "JSON_PARSER_ERROR",
            "The request body is either invalid or incorrect: expected a JSON object",
        )
    return body


def _record(call: Call, sobject: str, record_id: str) -> Reply:
    _allow(call, "GET", "PATCH", "DELETE", "HEAD")
    org = call.org
    if call.method in ("GET", "HEAD"):
        row = org.find(sobject, record_id)
        if row is None or row["IsDeleted"]:
            raise not_found()
        fields = call.param("fields")
        names = [n for n in fields.split(",") if n.strip()] if fields else None
        return Reply(200, org.shaped(sobject, row, call.version, names))
    if call.method == "PATCH":
        org.update(sobject, record_id, _json_object(call.body), call.ctx())
        return Reply(204)
    org.delete(sobject, record_id, call.ctx())
    return Reply(204)


def _by_external_id(call: Call, sobject: str, field_name: str, value: str) -> Reply:
    _allow(call, "GET", "PATCH", "DELETE", "POST", "HEAD")
    org = call.org
    obj = org.obj(sobject)
    f = obj.field(field_name)
    assert f is not None
    if call.method in ("GET", "HEAD", "DELETE"):
        matches = org.match_external(obj, f, value)
        if len(matches) > 1:
            return _multiple(call, sobject, [m["Id"] for m in matches])
        if not matches:
            raise not_found()
        if call.method == "DELETE":
            org.delete(sobject, matches[0]["Id"], call.ctx())
            return Reply(204)
        return Reply(200, org.shaped(sobject, matches[0], call.version))
    update_only = (call.param("updateOnly") or "").lower() == "true"
    try:
        with org.transaction():
            mark = org.savepoint()
            if update_only and not org.match_external(obj, f, value):
                raise not_found()
            record_id, created = org.upsert(
                sobject, field_name, value, _json_object(call.body), call.ctx()
            )
    except ApiError as error:
        if error.status == 300:
            return _multiple(call, sobject, error.extra["ids"])
        org.rollback_to(mark)
        raise
    # Since API 46.0 an update by external id answers 200 with a body, not 204.
    return Reply(
        201 if created else 200,
        {"id": record_id, "success": True, "errors": [], "created": created},
    )


def _multiple(call: Call, sobject: str, matching: list[str]) -> Reply:
    return Reply(300, [f"/services/data/v{call.version}/sobjects/{sobject}/{i}" for i in matching])


def _note_content(call: Call, record_id: str) -> Reply:
    _allow(call, "GET")
    row = call.org.find("ContentNote", record_id)
    if row is None or row["IsDeleted"]:
        raise not_found()
    blob = call.org.blobs.get(row["Id"], b"")
    return Reply(200, raw=blob, headers={"Content-Type": "text/plain;charset=UTF-8"})


# ----- Query ---------------------------------------------------------------------------


def _query(call: Call, rest: list[str], *, include_deleted: bool) -> Reply:
    _allow(call, "GET")
    org = call.org
    endpoint = "queryAll" if include_deleted else "query"
    if rest:
        locator, _, position = rest[0].rpartition("-")
        cursor = org.cursors.get(locator)
        if cursor is None or not position.isdigit():
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        records, batch = cursor
        return Reply(200, _page(call, endpoint, locator, records, int(position), batch))
    soql = call.param("q")
    if not soql:
        raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
    records, count = run_query(call, soql, include_deleted=include_deleted)
    if count is not None:
        return Reply(200, {"totalSize": count, "done": True, "records": []})
    batch = org.query_batch_size
    option = re.search(r"batchSize=(\d+)", call.headers.get("Sforce-Query-Options", "") or "")
    if option:
        batch = max(200, min(2000, int(option.group(1))))
    if len(records) <= batch:
        return Reply(200, {"totalSize": len(records), "done": True, "records": records})
    # A query locator is a 15-character id with the 01g key prefix.
    locator = "01g" + secrets.token_hex(6).upper()
    org.cursors[locator] = (records, batch)
    while len(org.cursors) > 200:
        org.cursors.pop(next(iter(org.cursors)))
    return Reply(200, _page(call, endpoint, locator, records, 0, batch))


def _page(
    call: Call,
    endpoint: str,
    locator: str,
    records: list[dict[str, Any]],
    position: int,
    batch: int,
) -> dict[str, Any]:
    chunk = records[position : position + batch]
    following = position + batch
    body: dict[str, Any] = {"totalSize": len(records), "done": following >= len(records)}
    if following < len(records):
        body["nextRecordsUrl"] = f"/services/data/v{call.version}/{endpoint}/{locator}-{following}"
    body["records"] = chunk
    return body


def run_query(
    call: Call, soql: str, *, include_deleted: bool
) -> tuple[list[dict[str, Any]], int | None]:
    """The query's records, and the count for ``SELECT COUNT()`` (None otherwise)."""
    from .soql import SoqlError, execute

    if re.search(r"\bFROM\s+ContentDocumentLink\b", soql, re.IGNORECASE) and not (
        _CDL_FILTER.search(soql)
    ):
        raise ApiError(
            400,
            "MALFORMED_QUERY",
            "Implementation restriction: ContentDocumentLink requires a filter by a "
            "single Id on ContentDocumentId or LinkedEntityId using the equals "
            "operator or multiple Id's using the IN operator.",
        )
    try:
        result = execute(soql, call.org, api_version=call.version, include_deleted=include_deleted)
    except SoqlError as error:
        raise ApiError(400, error.error_code, error.message) from None
    if result.is_count:
        return [], result.total_size
    return list(result.records), None


Handler = Callable[[Call], Reply]
