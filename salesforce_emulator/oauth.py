"""OAuth 2.0 as a Salesforce org answers it: web-server flow with PKCE, refresh tokens,
client credentials, userinfo, the identity URL and revocation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from .errors import ApiError
from .registry import AuthCode, ConnectedApp, Registry, Session
from .rest import VERSIONS
from .store import Org

CODE_LIFETIME_S = 15 * 60
DEFAULT_SCOPE = "api refresh_token"


def _json(body: Any, status: int = 200) -> Response:
    import json

    return Response(
        json.dumps(body),
        status=status,
        mimetype="application/json",
        headers={
            "Cache-Control": "no-cache,must-revalidate,max-age=0,no-store,private",
            "Pragma": "no-cache",
        },
    )


def token_error(error: str, description: str, status: int = 400) -> Response:
    return _json({"error": error, "error_description": description}, status)


def _error_page(error: str, description: str) -> Response:
    # Salesforce shows these on its own page rather than redirecting: the callback is
    # not trusted yet.
    text = html.escape(f"error={error}&error_description={description}")
    return Response(
        f"<!DOCTYPE html><html><head><title>Error</title></head><body>"
        f"<h1>OAuth Error</h1><p>{text}</p></body></html>",
        status=400,
        mimetype="text/html",
    )


def _redirect(uri: str, params: dict[str, str]) -> Response:
    separator = "&" if "?" in uri else "?"
    return Response("", status=302, headers={"Location": uri + separator + urlencode(params)})


def authorize(request: Request, registry: Registry) -> Response:
    data = request.form if request.method == "POST" else request.args
    client_id = data.get("client_id", "")
    redirect_uri = data.get("redirect_uri", "")
    state = data.get("state")
    app = registry.apps.get(client_id)
    if app is None:
        return _error_page("invalid_client_id", "client identifier invalid")
    if redirect_uri not in app.callback_urls:
        return _error_page("redirect_uri_mismatch", "redirect_uri must match configuration")
    extra = {"state": state} if state is not None else {}
    if data.get("response_type") != "code":
        return _redirect(
            redirect_uri,
            {
                "error": "unsupported_response_type",
                "error_description": "response type not supported",
                **extra,
            },
        )
    challenge = data.get("code_challenge")
    method = data.get("code_challenge_method") or ("S256" if challenge else None)
    if challenge and method != "S256":
        return _redirect(
            redirect_uri,
            {
                "error": "invalid_request",
                "error_description": "invalid code_challenge_method",
                **extra,
            },
        )
    org = registry.orgs[app.org_id]
    if request.method == "GET":
        return _consent_page(request, app, org)
    if data.get("decision") != "allow":
        return _redirect(
            redirect_uri,
            {
                "error": "access_denied",
                "error_description": "end-user denied authorization",
                **extra,
            },
        )
    code = AuthCode(
        code="aPrx" + secrets.token_urlsafe(48),
        client_id=client_id,
        redirect_uri=redirect_uri,
        org_id=org.id,
        user_id=org.admin_user_id,
        challenge=challenge,
        challenge_method=method,
        expires=time.time() + CODE_LIFETIME_S,
        scope=data.get("scope") or DEFAULT_SCOPE,
    )
    with registry.lock:
        registry.codes[code.code] = code
    return _redirect(redirect_uri, {"code": code.code, **extra})


def _consent_page(request: Request, app: ConnectedApp, org: Org) -> Response:
    user = org.tables["User"][org.admin_user_id]
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in request.args.items()
    )
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Allow Access?</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 3em auto">
<h1>Allow Access?</h1>
<p><strong>{html.escape(app.name)}</strong> is asking to access the org
<strong>{html.escape(org.name)}</strong> as <strong>{html.escape(user["Username"])}</strong>.</p>
<form method="post" action="/services/oauth2/authorize">{hidden}
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form></body></html>"""
    return Response(page, mimetype="text/html")


def _client(request: Request) -> tuple[str, str | None]:
    if request.authorization and request.authorization.type == "basic":
        return request.authorization.username or "", request.authorization.password
    return request.form.get("client_id", ""), request.form.get("client_secret")


def token(request: Request, registry: Registry) -> Response:
    if request.method != "POST":
        return token_error("invalid_request", "must use HTTP POST")
    grant_type = request.form.get("grant_type", "")
    client_id, secret = _client(request)
    app = registry.apps.get(client_id)
    if grant_type not in ("authorization_code", "refresh_token", "client_credentials"):
        return token_error("unsupported_grant_type", "grant type not supported")
    if app is None:
        return token_error("invalid_client_id", "client identifier invalid")
    if secret is not None and not hmac.compare_digest(secret, app.client_secret):
        return token_error("invalid_client", "invalid client credentials")
    if grant_type == "authorization_code":
        return _authorization_code(request, registry, app)
    if grant_type == "refresh_token":
        return _refresh(request, registry, app)
    if secret is None:
        return token_error("invalid_client", "invalid client credentials")
    if not app.client_credentials:
        return token_error("invalid_grant", "no client credentials user enabled")
    org = registry.orgs[app.org_id]
    session = registry.issue(org, org.admin_user_id, app.client_id)
    return _json(_token_body(registry, session, app, DEFAULT_SCOPE.replace(" refresh_token", "")))


def _authorization_code(request: Request, registry: Registry, app: ConnectedApp) -> Response:
    with registry.lock:
        code = registry.codes.pop(request.form.get("code", ""), None)
    if code is None or code.client_id != app.client_id or code.expires < time.time():
        return token_error("invalid_grant", "invalid authorization code")
    if request.form.get("redirect_uri") != code.redirect_uri:
        return token_error("redirect_uri_mismatch", "redirect_uri must match configuration")
    if code.challenge:
        verifier = request.form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if not verifier or not hmac.compare_digest(expected, code.challenge):
            return token_error("invalid_grant", "invalid code verifier")
    elif request.form.get("client_secret") is None:
        return token_error("invalid_client", "invalid client credentials")
    org = registry.orgs[code.org_id]
    grant = registry.grant_refresh(org, code.user_id, app.client_id)
    session = registry.issue(org, code.user_id, app.client_id, refresh_token=grant.token)
    body = _token_body(registry, session, app, code.scope)
    if "refresh_token" in code.scope.split() or "offline_access" in code.scope.split():
        body = {"access_token": body.pop("access_token"), "refresh_token": grant.token, **body}
    return _json(body)


def _refresh(request: Request, registry: Registry, app: ConnectedApp) -> Response:
    with registry.lock:
        grant = registry.refresh.get(request.form.get("refresh_token", ""))
    if (
        grant is None
        or grant.org_id != app.org_id
        or (grant.client_id is not None and grant.client_id != app.client_id)
    ):
        return token_error("invalid_grant", "expired access/refresh token")
    org = registry.orgs[grant.org_id]
    session = registry.issue(org, grant.user_id, app.client_id, refresh_token=grant.token)
    return _json(_token_body(registry, session, app, DEFAULT_SCOPE))


def _token_body(
    registry: Registry, session: Session, app: ConnectedApp, scope: str
) -> dict[str, Any]:
    identity = registry.identity_url(session.org_id, session.user_id)
    issued_at = str(session.issued_at)
    # Salesforce signs id + issued_at with the consumer secret so clients can check the
    # identity URL was not tampered with.
    signature = base64.b64encode(
        hmac.new(
            app.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
        ).digest()
    ).decode()
    return {
        "access_token": session.token,
        "signature": signature,
        "scope": scope,
        "instance_url": registry.instance_url(registry.orgs[session.org_id]),
        "id": identity,
        "token_type": "Bearer",
        "issued_at": issued_at,
    }


def _bearer_session(request: Request, registry: Registry) -> tuple[Org, Session] | None:
    header = request.headers.get("Authorization")
    if not header and request.values.get("oauth_token"):
        header = "Bearer " + request.values["oauth_token"]
    try:
        return registry.authenticate(header)
    except ApiError:
        return None


def _identity(
    registry: Registry, org: Org, session: Session, version: str | None = None
) -> dict[str, Any]:
    """The identity service's answer. Its API URLs hold the literal ``{version}`` unless
    the request names a version (``latest`` being the newest), as Salesforce documents."""
    user = org.tables["User"][session.user_id]
    base = registry.instance_url(org)
    if version == "latest":
        version = VERSIONS[-1]
    version = version or "{version}"

    def url(path: str) -> str:
        return f"{base}/services/data/v{version}/{path}"

    return {
        "id": registry.identity_url(org.id, user["Id"]),
        "asserted_user": True,
        "user_id": user["Id"],
        "organization_id": org.id,
        "username": user["Username"],
        "nick_name": user["Alias"],
        "display_name": user["Name"],
        "email": user["Email"],
        "email_verified": True,
        "first_name": user["FirstName"],
        "last_name": user["LastName"],
        "timezone": "GMT",
        "active": bool(user["IsActive"]),
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
        "last_modified_date": user["LastModifiedDate"],
        "is_app_installed": True,
        "urls": {
            "enterprise": f"{base}/services/Soap/c/{version}/{org.id}",
            "metadata": f"{base}/services/Soap/m/{version}/{org.id}",
            "partner": f"{base}/services/Soap/u/{version}/{org.id}",
            "rest": url(""),
            "sobjects": url("sobjects/"),
            "search": url("search/"),
            "query": url("query/"),
            "recent": url("recent/"),
            "profile": f"{base}/{user['Id']}",
            "custom_domain": base,
        },
    }


def userinfo(request: Request, registry: Registry) -> Response:
    found = _bearer_session(request, registry)
    if found is None:
        return Response("Bad_OAuth_Token", status=403, mimetype="text/plain")
    org, session = found
    identity = _identity(registry, org, session, request.args.get("version"))
    return _json(
        {
            "sub": identity["id"],
            "user_id": identity["user_id"],
            "organization_id": org.id,
            "preferred_username": identity["username"],
            "nickname": identity["nick_name"],
            "name": identity["display_name"],
            "email": identity["email"],
            "email_verified": True,
            "given_name": identity["first_name"],
            "family_name": identity["last_name"],
            "zoneinfo": "GMT",
            "active": identity["active"],
            "user_type": "STANDARD",
            "language": "en_US",
            "locale": "en_US",
            "utcOffset": 0,
            "updated_at": identity["last_modified_date"],
            "is_app_installed": True,
            "urls": identity["urls"],
        }
    )


def identity(request: Request, registry: Registry, org_id: str, user_id: str) -> Response:
    found = _bearer_session(request, registry)
    if found is None:
        return Response("Bad_OAuth_Token", status=403, mimetype="text/plain")
    org, session = found
    if org.id[:15] != org_id[:15] or user_id[:15] not in {u[:15] for u in org.tables["User"]}:
        return Response("Bad_Id", status=403, mimetype="text/plain")
    return _json(_identity(registry, org, session, request.args.get("version")))


def revoke(request: Request, registry: Registry) -> Response:
    value = request.values.get("token", "")
    if not registry.revoke(value):
        return token_error("unsupported_token_type", "this token type is not supported")
    return Response("", status=200)
