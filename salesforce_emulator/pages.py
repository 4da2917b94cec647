"""Plain HTML pages showing what clients wrote into the emulated orgs."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from .registry import Registry

_STYLE = """<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; font-size: 13px; }
td, th { border: 1px solid #ccc; padding: 3px 6px; vertical-align: top; text-align: left; }
th { background: #f3f3f3; }
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
    if not parts:
        return _index(registry)
    if len(parts) >= 3 and parts[0] == "orgs" and parts[1] in registry.orgs:
        if parts[2] == "log" and len(parts) == 3:
            return _log(registry, parts[1])
        if len(parts) == 4 and parts[2] == "objects":
            return _object(registry, parts[1], parts[3], request.args.get("deleted") == "1")
    return _page("Not found", "<p>No such page.</p>", 404)


def _index(registry: Registry) -> Response:
    if not registry.orgs:
        return _page("Salesforce emulator", "<p>No orgs yet.</p>")
    sections = [f"<p>Instance URL: <code>{escape(registry.base_url)}</code></p>"]
    for org in list(registry.orgs.values()):
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
            f"<p>API calls today: {escape(calls)} · "
            f"<a href='/orgs/{quote(org.id)}/log'>request log</a></p>"
            f"<table><tr><th>Object</th><th>Records</th></tr>{rows}</table>"
        )
    return _page("Salesforce emulator", "".join(sections))


def _object(registry: Registry, org_id: str, sobject: str, show_deleted: bool) -> Response:
    org = registry.orgs[org_id]
    with org.lock:
        name = org.object_name(sobject)
        if name is None:
            return _page("Not found", "<p>No such object.</p>", 404)
        fields = [f.name for f in org.objects[name].fields.values()]
        records = [dict(r) for r in org.tables[name].values() if show_deleted or not r["IsDeleted"]]
    head = "".join(f"<th>{escape(f)}</th>" for f in fields)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{escape('' if r.get(f) is None else str(r.get(f)))}</td>" for f in fields)
        + "</tr>"
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


def _log(registry: Registry, org_id: str) -> Response:
    org = registry.orgs[org_id]
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
