from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession

from salesforce_emulator.testing import OrgHandle

pytestmark = pytest.mark.emulator

CALLBACK = "https://portal.example.com/oauth/callback"


@pytest.fixture
def app(salesforce: OrgHandle) -> tuple[str, str]:
    salesforce.add_connected_app("portal-client", "portal-secret", [CALLBACK])
    return "portal-client", "portal-secret"


def _challenge() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _authorize(http: requests.Session, base: str, client_id: str, challenge: str) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "state": "st-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "scope": "api refresh_token",
    }
    consent = http.get(f"{base}/services/oauth2/authorize", params=params)
    assert consent.status_code == 200 and "Allow" in consent.text
    allowed = http.post(
        f"{base}/services/oauth2/authorize",
        data={**params, "decision": "allow"},
        allow_redirects=False,
    )
    assert allowed.status_code == 302
    location = allowed.headers["Location"]
    assert location.startswith(CALLBACK)
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["st-123"]
    return query["code"][0]


def test_pkce_authorization_code_flow_end_to_end(
    salesforce: OrgHandle, app: tuple[str, str], http: requests.Session
) -> None:
    base = salesforce.instance_url
    verifier, challenge = _challenge()
    code = _authorize(http, base, app[0], challenge)
    response = http.post(
        f"{base}/services/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": app[0],
            "client_secret": app[1],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200
    token = response.json()
    assert token["instance_url"] == base and token["token_type"] == "Bearer"
    assert token["id"] == f"{base}/id/{salesforce.id}/{salesforce.admin_user_id}"
    assert token["issued_at"].isdigit() and token["refresh_token"]
    expected = base64.b64encode(
        hmac.new(
            app[1].encode(), (token["id"] + token["issued_at"]).encode(), hashlib.sha256
        ).digest()
    ).decode()
    assert token["signature"] == expected
    sf = Salesforce(
        instance_url=token["instance_url"], session_id=token["access_token"], session=http
    )
    assert sf.Account.create({"Name": "Via OAuth"})["success"]
    identity = http.get(
        token["id"], headers={"Authorization": f"Bearer {token['access_token']}"}
    ).json()
    assert identity["user_id"] == salesforce.admin_user_id
    assert identity["organization_id"] == salesforce.id and "@" in identity["email"]


def test_authorization_code_is_single_use_and_checks_the_verifier(
    salesforce: OrgHandle, app: tuple[str, str], http: requests.Session
) -> None:
    base = salesforce.instance_url
    verifier, challenge = _challenge()
    code = _authorize(http, base, app[0], challenge)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": app[0],
        "redirect_uri": CALLBACK,
        "code_verifier": "wrong-" + verifier,
    }
    bad = http.post(f"{base}/services/oauth2/token", data=form)
    assert bad.status_code == 400
    assert bad.json() == {"error": "invalid_grant", "error_description": "invalid code verifier"}
    again = http.post(f"{base}/services/oauth2/token", data={**form, "code_verifier": verifier})
    assert again.json()["error"] == "invalid_grant"


def test_unknown_client_and_callback_mismatch_show_an_error_page(
    salesforce: OrgHandle, app: tuple[str, str], http: requests.Session
) -> None:
    url = f"{salesforce.instance_url}/services/oauth2/authorize"
    unknown = http.get(
        url, params={"response_type": "code", "client_id": "nope", "redirect_uri": CALLBACK}
    )
    assert unknown.status_code == 400 and "invalid_client_id" in unknown.text
    mismatch = http.get(
        url,
        params={
            "response_type": "code",
            "client_id": app[0],
            "redirect_uri": "https://evil.example.com/cb",
        },
    )
    assert mismatch.status_code == 400 and "redirect_uri_mismatch" in mismatch.text


def test_denied_consent_redirects_with_access_denied(
    salesforce: OrgHandle, app: tuple[str, str], http: requests.Session
) -> None:
    response = http.post(
        f"{salesforce.instance_url}/services/oauth2/authorize",
        data={
            "response_type": "code",
            "client_id": app[0],
            "redirect_uri": CALLBACK,
            "state": "s",
            "decision": "deny",
        },
        allow_redirects=False,
    )
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["s"]


def test_refresh_token_grant_after_an_expired_session(
    salesforce: OrgHandle, app: tuple[str, str], http: requests.Session
) -> None:
    sf = Salesforce(
        instance_url=salesforce.instance_url, session_id=salesforce.access_token, session=http
    )
    salesforce.expire_sessions()
    with pytest.raises(SalesforceExpiredSession):
        sf.limits()
    response = http.post(
        f"{salesforce.instance_url}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": salesforce.refresh_token,
            "client_id": app[0],
            "client_secret": app[1],
        },
    )
    assert response.status_code == 200
    token = response.json()
    assert "refresh_token" not in token
    fresh = Salesforce(
        instance_url=token["instance_url"], session_id=token["access_token"], session=http
    )
    assert fresh.limits()["DailyApiRequests"]["Max"] == 100000


def test_revoked_refresh_token_is_an_invalid_grant(
    salesforce: OrgHandle, app: tuple[str, str], http: requests.Session
) -> None:
    salesforce.revoke_refresh_tokens()
    response = http.post(
        f"{salesforce.instance_url}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": salesforce.refresh_token,
            "client_id": app[0],
            "client_secret": app[1],
        },
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "expired access/refresh token",
    }


def test_client_credentials_grant_runs_as_the_admin(
    salesforce: OrgHandle, app: tuple[str, str], http: requests.Session
) -> None:
    response = http.post(
        f"{salesforce.instance_url}/services/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": app[0], "client_secret": app[1]},
    )
    token = response.json()
    assert "refresh_token" not in token
    info = http.get(
        f"{salesforce.instance_url}/services/oauth2/userinfo",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    ).json()
    assert info["user_id"] == salesforce.admin_user_id


def test_wrong_client_secret_is_invalid_client(
    salesforce: OrgHandle, app: tuple[str, str], http: requests.Session
) -> None:
    response = http.post(
        f"{salesforce.instance_url}/services/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": app[0], "client_secret": "x"},
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_client"


def test_revoke_ends_the_access_token(salesforce: OrgHandle, http: requests.Session) -> None:
    token = salesforce.new_access_token()
    assert (
        http.post(
            f"{salesforce.instance_url}/services/oauth2/revoke", data={"token": token}
        ).status_code
        == 200
    )
    limits = http.get(
        f"{salesforce.instance_url}/services/data/v59.0/limits",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert limits.status_code == 401
