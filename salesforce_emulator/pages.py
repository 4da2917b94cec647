"""Plain HTML pages showing what clients wrote into the emulated orgs.

A host shows the orgs whose instance it is (``Registry.orgs_on_host``): an org with a
domain of its own only there, the others on the server's host. No login is asked (this
is an emulator), so the host is what keeps one org's records off another's pages."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from . import ids, record_pages
from .registry import Registry
from .store import Org

_STYLE = """<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; font-size: 13px; }
td, th { border: 1px solid #ccc; padding: 3px 6px; vertical-align: top; text-align: left; }
th { background: #f3f3f3; }
.muted { color: #666; }
.note { white-space: pre-wrap; border: 1px solid #ccc; padding: 8px; max-width: 60em; }
</style>"""


def _page(title: str, body: str, status: int = 200) -> Response:
    html = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"{_STYLE}</head><body><p><a href='/'>Salesforce emulator</a></p>"
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )
    return Response(html, status=status, mimetype="text/html")


def handle(request: Request, registry: Registry) -> Response:
    parts = [p for p in request.path.split("/") if p]
    orgs = registry.orgs_on_host(request.host)
    if not parts:
        return _index(registry, orgs)
    if len(parts) == 1 and ids.to18(parts[0]) is not None:
        return _record(orgs, parts[0])
    if len(parts) == 5 and parts[:2] == ["lightning", "r"] and parts[4] == "view":
        return _record(orgs, parts[3], parts[2])
    shown = {org.id: org for org in orgs}
    if len(parts) >= 3 and parts[0] == "orgs" and parts[1] in shown:
        org = shown[parts[1]]
        if parts[2] == "log" and len(parts) == 3:
            return _log(org)
        if len(parts) == 4 and parts[2] == "objects":
            return _object(org, parts[3], request.args.get("deleted") == "1")
    return _page("Not found", "<p>No such page.</p>", 404)


def _record(orgs: list[Org], record_id: str, sobject: str | None = None) -> Response:
    found = record_pages.record_find(orgs, record_id, sobject)
    if found is None:
        return _page("Not found", "<p>No such record.</p>", 404)
    return _page(record_pages.record_title(found), record_pages.record_body(found))


def _index(registry: Registry, orgs: list[Org]) -> Response:
    if not orgs:
        return _page("Salesforce emulator", "<p>No orgs yet.</p>")
    sections = []
    for org in orgs:
        with org.lock:
            counts = [
                (name, sum(1 for r in org.tables[name].values() if not r["IsDeleted"]))
                for name in sorted(org.objects)
            ]
            calls = f"{org.api_calls}/{org.api_max}"
        rows = "".join(
            f"<tr><td><a href='/orgs/{quote(org.id)}/objects/{quote(name)}'>{escape(name)}</a>"
            f"</td><td>{count}</td></tr>"
            for name, count in counts
        )
        sections.append(
            f"<h2>{escape(org.name)} <small>({escape(org.id)})</small></h2>"
            f"<p>Instance URL: <code>{escape(registry.instance_url(org))}</code></p>"
            f"<p>API calls today: {escape(calls)} · "
            f"<a href='/orgs/{quote(org.id)}/log'>request log</a></p>"
            f"<table><tr><th>Object</th><th>Records</th></tr>{rows}</table>"
        )
    return _page("Salesforce emulator", "".join(sections))


def _object(org: Org, sobject: str, show_deleted: bool) -> Response:
    with org.lock:
        name = org.object_name(sobject)
        if name is None:
            return _page("Not found", "<p>No such object.</p>", 404)
        fields = [f.name for f in org.objects[name].fields.values()]
        records = [dict(r) for r in org.tables[name].values() if show_deleted or not r["IsDeleted"]]
    head = "".join(f"<th>{escape(f)}</th>" for f in fields)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(f, r.get(f))}</td>" for f in fields) + "</tr>"
        for r in records
    )
    toggle = (
        f"<a href='?deleted={'0' if show_deleted else '1'}'>"
        f"{'hide' if show_deleted else 'show'} deleted</a>"
    )
    return _page(
        f"{name} in {org.name}",
        f"<p>{len(records)} records · {toggle}</p><table><tr>{head}</tr>{body}</table>",
    )


def _cell(field: str, value: object) -> str:
    if value is None:
        return ""
    if field == "Id":  # each record's own page
        return f"<a href='/{quote(str(value))}'>{escape(str(value))}</a>"
    return escape(str(value))


def _log(org: Org) -> Response:
    with org.lock:
        entries = list(org.request_log)[-1000:]
    rows = "".join(
        f"<tr><td>{escape(e.started_at)}</td><td>{escape(e.method)}</td>"
        f"<td>{escape(e.path)}</td><td>{escape(e.query[:300])}</td><td>{e.status}</td>"
        f"<td>{e.duration_ms:.1f}</td><td>{e.api_calls}</td></tr>"
        for e in reversed(entries)
    )
    return _page(
        f"Request log of {org.name}",
        "<table><tr><th>Started</th><th>Method</th><th>Path</th><th>Query</th>"
        f"<th>Status</th><th>ms</th><th>API calls</th></tr>{rows}</table>",
    )
