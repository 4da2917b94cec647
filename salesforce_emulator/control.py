"""The private control API under ``/_emulator/``: what tests do through the Python API,
for other processes (workers, the benchmark, the demo). Never counted as API calls."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Request, Response

from .errors import ApiError
from .faults import DEFAULT_KINDS
from .registry import Registry
from .store import Org, ValidationRule, WriteContext


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def org_summary(registry: Registry, org: Org) -> dict[str, Any]:
    return {
        "id": org.id,
        "name": org.name,
        "instance_url": registry.instance_url(org),
        "admin_user_id": org.admin_user_id,
        "shared_activities": org.shared_activities,
        "api_calls": org.api_calls,
        "api_max": org.api_max,
        "query_batch_size": org.query_batch_size,
        "faults": org.faults.pending(),
        "latency_ms": org.faults.latency_ms,
        "chaos": org.faults.chaos_settings(),
    }


def handle(request: Request, registry: Registry) -> Response:
    parts = [p for p in request.path.split("/") if p][1:]
    body: dict[str, Any] = request.get_json(silent=True) or {}
    try:
        return _route(request.method, parts, body, request, registry)
    except ApiError as error:
        return _json(error.body(), error.status)
    except (KeyError, TypeError, ValueError) as exc:
        return _json({"error": f"bad control request: {exc}"}, 400)


def _route(
    method: str, parts: list[str], body: dict[str, Any], request: Request, registry: Registry
) -> Response:
    if parts == ["orgs"]:
        if method == "POST":
            org, session, grant = registry.create_org(
                body.get("name", "Emulated Org"),
                shared_activities=body.get("shared_activities", True),
                admin_email=body.get("admin_email"),
                my_domain=body.get("my_domain", ""),
            )
            return _json(
                {
                    **org_summary(registry, org),
                    "access_token": session.token,
                    "refresh_token": grant.token,
                },
                201,
            )
        return _json([org_summary(registry, o) for o in registry.orgs.values()])
    if len(parts) < 2 or parts[0] != "orgs" or parts[1] not in registry.orgs:
        return _json({"error": "unknown org"}, 404)
    org = registry.orgs[parts[1]]
    action = parts[2:]
    ok = _json({"ok": True})
    if not action:
        return _json(org_summary(registry, org))
    head = action[0]
    if head == "records" and len(action) == 2:
        if method == "POST":
            rows = body.get("records", [body])
            ctx = WriteContext(user_id=org.admin_user_id, trusted=True)
            with org.transaction():
                new_ids = [org.create(action[1], row, ctx) for row in rows]
            return _json({"ids": new_ids, "id": new_ids[0] if new_ids else None}, 201)
        include = request.args.get("include_deleted") == "true"
        with org.lock:
            return _json([dict(r) for r in org.rows(action[1], include_deleted=include)])
    if head == "record" and len(action) == 2:
        found = org.record_of(action[1])
        if found is None:
            return _json(None, 404)
        return _json({"sobject": found[0], "record": found[1]})
    if method != "POST" and head not in ("request-log", "faults"):
        return _json({"error": "use POST"}, 405)
    if head == "fields":
        org.add_field(body.pop("sobject"), body.pop("name"), **body)
        return ok
    if head == "connected-apps":
        registry.add_app(
            org,
            body["client_id"],
            body["client_secret"],
            body["callback_urls"],
            body.get("name", "Connected App"),
        )
        return ok
    if head == "sessions":
        session = registry.issue(org, org.admin_user_id, None)
        return _json({"access_token": session.token})
    if head == "faults" and action[1:2] == ["chaos"]:
        return _chaos(method, action[2:], body, org)
    if head == "faults":
        sub = action[1] if len(action) > 1 else ""
        if method == "DELETE" or sub == "clear":
            org.faults.clear()
        elif sub == "fail-next":
            org.faults.fail_next(**body)
        elif sub == "latency":
            org.faults.latency(body["ms"])
        elif sub == "drop-after-commit":
            org.faults.drop_after_commit(**body)
        else:
            return _json(org.faults.pending())
        return ok
    if head == "expire-sessions":
        registry.expire_sessions(org.id)
        return ok
    if head == "revoke-refresh-tokens":
        registry.revoke_refresh_tokens(org.id)
        return ok
    if head == "duplicate-rules":
        with org.lock:
            name = org.obj(body["sobject"]).name
            if body.get("enabled", True):
                org.duplicate_rules.add(name)
            else:
                org.duplicate_rules.discard(name)
        return ok
    if head == "validation-rules":
        with org.lock:
            org.validation_rules.append(
                ValidationRule(
                    org.obj(body["sobject"]).name,
                    body["message"],
                    body.get("field"),
                    body.get("when"),
                )
            )
        return ok
    if head == "convert-lead":
        # POST {"lead_id", "account_id"?, "contact_id"?, "create_opportunity"?,
        # "opportunity_name"?, "converted_status"?, "overwrite_lead_source"?}: the
        # LeadConvertResult ids (the REST API has no lead conversion).
        with org.lock:
            options = {
                key: body[key]
                for key in (
                    "account_id",
                    "contact_id",
                    "create_opportunity",
                    "opportunity_name",
                    "converted_status",
                    "overwrite_lead_source",
                )
                if key in body
            }
            return _json(org.convert_lead(body["lead_id"], **options))
    if head == "api-limit":
        with org.lock:
            org.api_max = int(body["max"])
        return ok
    if head == "exhaust-api-limit":
        with org.lock:
            org.api_calls = org.api_max
        return ok
    if head == "lock":
        with org.lock:
            found = org.record_of(body["id"])
            if found is None:
                return _json({"error": f"bad control request: no record {body['id']}"}, 400)
            org.locked.add(found[1]["Id"])
        return ok
    if head == "settings":
        with org.lock:
            if "query_batch_size" in body:
                org.query_batch_size = int(body["query_batch_size"])
            if "shared_activities" in body:
                org.shared_activities = bool(body["shared_activities"])
        return ok
    if head == "request-log":
        with org.lock:
            return _json([entry.to_dict() for entry in org.request_log])
    return _json({"error": "unknown control action"}, 404)


def _chaos(method: str, rest: list[str], body: dict[str, Any], org: Org) -> Response:
    """``/faults/chaos``: POST {"rate", "seed", "kinds"?, "slow_ms"?} turns it on, DELETE
    (or POST ``/faults/chaos/off``) turns it off, GET tells the settings and the counts;
    GET ``/faults/chaos/stats`` the counts alone."""
    faults = org.faults
    if rest == [] and method == "POST":
        faults.chaos(
            body["rate"], body["seed"], body.get("kinds", DEFAULT_KINDS), body.get("slow_ms", 0)
        )
        return _json({"ok": True, "chaos": faults.chaos_settings()})
    if (rest == [] and method == "DELETE") or (rest == ["off"] and method == "POST"):
        faults.chaos_off()
        return _json({"ok": True, "stats": faults.chaos_stats()})
    if rest == [] and method == "GET":
        return _json({"chaos": faults.chaos_settings(), "stats": faults.chaos_stats()})
    if rest == ["stats"] and method == "GET":
        return _json(faults.chaos_stats())
    return _json({"error": "unknown control action"}, 404)
