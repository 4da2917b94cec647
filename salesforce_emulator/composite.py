"""``composite`` (subrequests with references) and ``composite/sobjects`` (collections)."""

from __future__ import annotations

import json
import re
from typing import Any

from werkzeug.datastructures import Headers

from . import ids
from .errors import ApiError, not_found
from .rest import Call, Reply, split_url
from .rest import handle as rest_handle

# REST API Developer Guide, "Send Multiple Requests Using Composite": "You can have up to
# 25 subrequests in a single call. Up to 5 of these subrequests can be sObject Collections
# or query operations, including Query and QueryAll requests."
MAX_SUBREQUESTS = 25
MAX_QUERY_OR_COLLECTION_SUBREQUESTS = 5
# REST API Developer Guide, "Create Records Using sObject Collections" / "Update Records
# Using sObject Collections": "The list can contain up to 200 objects"; records of more
# than one type "are processed as chunks" -- a new chunk each time the type changes, so
# {account1, account2, contact1, account3} is three chunks -- and "A single request can
# process up to 10 chunks".
MAX_RECORDS = 200
MAX_CHUNKS = 10
_CHUNKS_MESSAGE = (
    "Cannot have more than 10 chunks in a single operation. Please rearrange the data to "
    "reduce chunking."
)
# A query (query, queryAll, and the next pages of either) or sObject Collections subrequest.
_HEAVY = re.compile(r"/services/data/v[\d.]+/(query|queryAll|composite/sobjects)(/|\?|$)")
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_ROLLED_BACK = (
    "Record rolled back because not all records were valid and the request was "
    "using AllOrNone header"
)
_HALTED = "The transaction was rolled back since another operation in the same transaction failed."


def handle(call: Call, rest: list[str]) -> Reply:
    if not rest:
        if call.method != "POST":
            raise ApiError(
                405,
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{call.method}' not allowed. Allowed are POST",
            )
        return _composite(call)
    if rest[0] == "sobjects":
        return _collections(call, rest[1:])
    raise not_found()


# ----- composite -----------------------------------------------------------------------


def _composite(call: Call) -> Reply:
    body = call.body
    if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list):
        raise ApiError(400, "JSON_PARSER_ERROR", "Required field 'compositeRequest' is missing")
    subrequests = body["compositeRequest"]
    if len(subrequests) > MAX_SUBREQUESTS:
        raise ApiError(
            400, "LIMIT_EXCEEDED", f"Limit Exceeded: max allowed subrequests is {MAX_SUBREQUESTS}"
        )
    seen: set[str] = set()
    heavy = 0
    for sub in subrequests:
        ref = sub.get("referenceId") if isinstance(sub, dict) else None
        if not isinstance(ref, str) or not ref or not sub.get("url") or not sub.get("method"):
            raise ApiError(
                400, "JSON_PARSER_ERROR", "Each subrequest needs method, url and referenceId"
            )
        if ref in seen:
            raise ApiError(
                400, "INVALID_INPUT", f"Duplicate ReferenceId provided in the request: {ref}"
            )
        seen.add(ref)
        if _HEAVY.search(str(sub["url"])):
            heavy += 1
    if heavy > MAX_QUERY_OR_COLLECTION_SUBREQUESTS:
        raise ApiError(
            400,
            "LIMIT_EXCEEDED",
            "Limit Exceeded: max allowed query or sObject Collections subrequests is "
            f"{MAX_QUERY_OR_COLLECTION_SUBREQUESTS}",
        )
    all_or_none = bool(body.get("allOrNone"))
    org = call.org
    results: list[dict[str, Any]] = []
    outputs: dict[str, Any] = {}
    failed_at: int | None = None
    with org.transaction():
        mark = org.savepoint()
        for position, sub in enumerate(subrequests):
            ref = sub["referenceId"]
            if failed_at is not None:
                results.append(_halted(ref))
                continue
            try:
                reply = _run_subrequest(call, sub, outputs, all_or_none)
            except ApiError as error:
                reply = Reply(error.status, error.body())
            result: dict[str, Any] = {
                "body": reply.body,
                "httpHeaders": reply.headers,
                "httpStatusCode": reply.status,
                "referenceId": ref,
            }
            results.append(result)
            if reply.status < 400:
                outputs[ref] = reply.body
            elif all_or_none:
                failed_at = position
        if failed_at is not None:
            org.rollback_to(mark)
            for position, result in enumerate(results):
                if position != failed_at:
                    results[position] = _halted(result["referenceId"])
    return Reply(200, {"compositeResponse": results})


def _halted(ref: str) -> dict[str, Any]:
    return {
        "body": [{"errorCode": "PROCESSING_HALTED", "message": _HALTED}],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": ref,
    }


def _run_subrequest(
    call: Call, sub: dict[str, Any], outputs: dict[str, Any], all_or_none: bool
) -> Reply:
    url = _substitute_text(str(sub["url"]), outputs)
    body = _substitute_body(sub.get("body"), outputs)
    method = str(sub["method"]).upper()
    version, path, params = split_url(url)
    if path.strip("/") == "composite":
        raise ApiError(400, "INVALID_INPUT", "Composite requests can't be nested")
    fault = call.org.faults.take("fail", method, url)
    if fault is not None:
        raise ApiError(fault.status, fault.error_code, fault.text(), fault.fields())
    headers = Headers(call.headers)
    sub_headers = sub.get("httpHeaders") or {}
    if not isinstance(sub_headers, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "httpHeaders must be a JSON object")
    for name, value in sub_headers.items():
        # A subrequest's header replaces the request's one of the same name, whatever
        # the case of either spelling.
        headers.set(str(name), str(value).replace("\r", " ").replace("\n", " "))
    if all_or_none and path.startswith("/composite/sobjects") and isinstance(body, dict):
        body = dict(body, allOrNone=True)
    inner = Call(call.org, call.session, method, version, path, params, body, headers)
    reply = rest_handle(inner)
    if reply.status == 201 and isinstance(reply.body, dict) and "id" in reply.body:
        reply.headers = {"Location": reply.headers.get("Location", "")}
    else:
        reply.headers = {}
    if reply.raw is not None:
        reply.body = reply.raw.decode("utf-8", "replace")
    return reply


def _resolve(match: re.Match[str], outputs: dict[str, Any]) -> Any:
    ref, path = match.group(1), match.group(2)
    expression = ref + path
    if ref not in outputs:
        raise ApiError(
            400,
            "PROCESSING_HALTED",
            f"Invalid reference specified. No value for {expression} found in "
            f"{ref}. Provided referenceId ('{ref}') or property path "
            f"('{path.lstrip('.')}') is invalid.",
        )
    value: Any = outputs[ref]
    for key, index in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        try:
            value = value[int(index)] if index else value[key]
        except (KeyError, IndexError, TypeError):
            raise ApiError(
                400,
                "PROCESSING_HALTED",
                f"Invalid reference specified. No value for {expression} found in "
                f"{ref}. Provided referenceId ('{ref}') or property path "
                f"('{path.lstrip('.')}') is invalid.",
            ) from None
    return value


def _substitute_text(text: str, outputs: dict[str, Any]) -> str:
    def replace(match: re.Match[str]) -> str:
        value = _resolve(match, outputs)
        return value if isinstance(value, str) else json.dumps(value)

    return _REFERENCE.sub(replace, text)


def _substitute_body(body: Any, outputs: dict[str, Any]) -> Any:
    if isinstance(body, str):
        whole = _REFERENCE.fullmatch(body)
        return _resolve(whole, outputs) if whole else _substitute_text(body, outputs)
    if isinstance(body, list):
        return [_substitute_body(item, outputs) for item in body]
    if isinstance(body, dict):
        return {key: _substitute_body(value, outputs) for key, value in body.items()}
    return body


# ----- sObject Collections ---------------------------------------------------------------


def _collections(call: Call, rest: list[str]) -> Reply:
    if rest:
        if len(rest) != 1 or call.method not in ("GET", "POST"):
            raise not_found()
        return _retrieve(call, rest[0])
    if call.method == "POST":
        return _save(call, creating=True)
    if call.method == "PATCH":
        return _save(call, creating=False)
    if call.method == "DELETE":
        return _delete(call)
    raise ApiError(
        405,
        "METHOD_NOT_ALLOWED",
        f"HTTP Method '{call.method}' not allowed. Allowed are POST,PATCH,DELETE",
    )


def _too_many() -> ApiError:
    return ApiError(
        400,
        "EXCEEDED_ID_LIMIT",
        "record limit reached. cannot submit more than 200 records into this call",
    )


def _save(call: Call, *, creating: bool) -> Reply:
    body = call.body
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise ApiError(400, "JSON_PARSER_ERROR", "Required field 'records' is missing")
    records = body["records"]
    if len(records) > MAX_RECORDS:
        raise _too_many()
    types = [
        str((r.get("attributes") or {}).get("type") or "").lower() if isinstance(r, dict) else ""
        for r in records
    ]
    chunks = sum(1 for i, kind in enumerate(types) if i == 0 or kind != types[i - 1])
    if chunks > MAX_CHUNKS:
        # The whole request is refused, nothing written; the message is Salesforce's (as
        # Apex and the SOAP API word it).
        raise ApiError(400, "INVALID_BATCH_REQUEST", _CHUNKS_MESSAGE)
    all_or_none = bool(body.get("allOrNone"))
    org = call.org
    ctx = call.ctx()
    results: list[dict[str, Any]] = []
    with org.transaction():
        mark = org.savepoint()
        for record in records:
            record_id = None
            try:
                if not isinstance(record, dict):
                    raise ApiError(400, "JSON_PARSER_ERROR", "Each record must be an object")
                sobject = (record.get("attributes") or {}).get("type")
                if not sobject:
                    raise ApiError(400, "INVALID_TYPE", "No SObject Type defined in attributes", [])
                fields = {
                    k: v for k, v in record.items() if k != "attributes" and k.lower() != "id"
                }
                given_id = next((v for k, v in record.items() if k.lower() == "id"), None)
                if org.object_name(sobject) is None:
                    raise ApiError(
                        400, "INVALID_TYPE", f"sObject type '{sobject}' is not supported.", []
                    )
                if creating:
                    if given_id:
                        raise ApiError(
                            400, "INVALID_FIELD", "cannot specify Id in an insert call", ["Id"]
                        )
                    record_id = org.create(sobject, fields, ctx)
                else:
                    if not given_id:
                        raise ApiError(
                            400, "MISSING_ARGUMENT", "Id not specified in an update call", []
                        )
                    record_id = given_id
                    org.update(sobject, given_id, fields, ctx)
                    record_id = ids.to18(given_id) or given_id
                results.append({"id": record_id, "success": True, "errors": []})
            except ApiError as error:
                result: dict[str, Any] = {"success": False, "errors": [error.save_error()]}
                if not creating:
                    result = {"id": record_id, **result}
                results.append(result)
        if all_or_none and not all(r["success"] for r in results):
            org.rollback_to(mark)
            results = [_rolled_back(r, creating) for r in results]
    return Reply(200, results)


def _rolled_back(result: dict[str, Any], creating: bool) -> dict[str, Any]:
    if not result["success"]:
        return result
    rolled: dict[str, Any] = {
        "success": False,
        "errors": [
            {
                "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "message": _ROLLED_BACK,
                "fields": [],
            }
        ],
    }
    if creating:
        return {"id": None, **rolled}
    return {"id": result["id"], **rolled}


def _delete(call: Call) -> Reply:
    raw = call.param("ids") or ""
    wanted = [i for i in raw.split(",") if i]
    if not wanted:
        raise ApiError(400, "MISSING_ARGUMENT", "The 'ids' parameter is required", None)
    if len(wanted) > MAX_RECORDS:
        raise _too_many()
    all_or_none = (call.param("allOrNone") or "").lower() == "true"
    org = call.org
    results: list[dict[str, Any]] = []
    with org.transaction():
        mark = org.savepoint()
        for record_id in wanted:
            try:
                found = org.record_of(record_id)
                if ids.to18(record_id) is None:
                    raise ApiError(400, "MALFORMED_ID", f"malformed id {record_id}", [])
                if found is None:
                    raise ApiError(
                        400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", []
                    )
                org.delete(found[0], found[1]["Id"], call.ctx())
                results.append({"id": found[1]["Id"], "success": True, "errors": []})
            except ApiError as error:
                results.append({"id": record_id, "success": False, "errors": [error.save_error()]})
        if all_or_none and not all(r["success"] for r in results):
            org.rollback_to(mark)
            results = [_rolled_back(r, False) for r in results]
    return Reply(200, results)


def _retrieve(call: Call, sobject: str) -> Reply:
    org = call.org
    obj = org.obj(sobject)
    if call.method == "POST" and isinstance(call.body, dict):
        wanted = [str(i) for i in call.body.get("ids") or []]
        fields = [str(f) for f in call.body.get("fields") or []]
    else:
        wanted = [i for i in (call.param("ids") or "").split(",") if i]
        fields = [f for f in (call.param("fields") or "").split(",") if f]
    if not fields:
        raise ApiError(400, "MISSING_ARGUMENT", "The 'fields' parameter is required", None)
    if len(wanted) > 2000:
        raise _too_many()
    out: list[dict[str, Any] | None] = []
    for record_id in wanted:
        row = org.find(obj.name, record_id)
        out.append(
            None
            if row is None or row["IsDeleted"]
            else org.shaped(obj.name, row, call.version, fields)
        )
    return Reply(200, out)
