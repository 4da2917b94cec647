"""The demo's side of the bundled Salesforce emulator: the customers its org already
knows, a validation rule of the org's own, and the tenant's connection made as a person
makes it (Connect Salesforce, then Allow), so it holds a refresh token."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import CommandError
from django.urls import reverse

from integrations.models import SalesforceConnection
from integrations.salesforce.client import (
    SalesforceClient,
    format_soql,
    salesforce_http_session,
    salesforce_userinfo,
)
from integrations.salesforce.oauth import OAuthError, oauth_authorization_start
from integrations.services.connection import salesforce_oauth_complete
from tenants.models import Tenant

DOMAIN = "acme.example"

# (object, field that finds it, fields); a tuple value is the Id of another demo record.
DEMO_SALESFORCE: list[tuple[str, str, dict[str, Any]]] = [
    (
        "User",
        "Email",
        {
            "Username": f"ana@{DOMAIN}.demo",
            "Email": f"ana@{DOMAIN}",
            "FirstName": "Ana",
            "LastName": "Lopez",
            "Alias": "alopez",
        },
    ),
    ("Account", "Name", {"Name": "Initech"}),
    (
        "Contact",
        "Email",
        {
            "FirstName": "Bill",
            "LastName": "Lumbergh",
            "Email": "bill.lumbergh@initech.example",
            "AccountId": ("Account", "Name", "Initech"),
        },
    ),
    ("Account", "Name", {"Name": "Globex"}),
    (
        "Contact",
        "Email",
        {
            "FirstName": "Hank",
            "LastName": "Scorpio",
            "Email": "hank.scorpio@globex.example",
            "AccountId": ("Account", "Name", "Globex"),
        },
    ),
    (
        "Contact",
        "Email",
        {
            "FirstName": "Pat",
            "LastName": "O'Brien",
            "Email": "o'brien@globex.example",
            "AccountId": ("Account", "Name", "Globex"),
        },
    ),
    (
        "Lead",
        "Email",
        {
            "FirstName": "Alice",
            "LastName": "Abernathy",
            "Company": "Umbrella",
            "Email": "alice@umbrella.example",
        },
    ),
]


def demo_customers_seed(client: SalesforceClient) -> None:
    """What the demo org already knows: the customers the demo meetings are with, so
    the sync has something to match. Each record is made once."""
    for sobject, key, fields in DEMO_SALESFORCE:
        found = client.query_all(
            format_soql(f"SELECT Id FROM {sobject} WHERE {key} = {{}}", fields[key])  # noqa: S608
        )
        if found:
            continue
        values = {
            name: (_record_id(client, value) if isinstance(value, tuple) else value)
            for name, value in fields.items()
        }
        client.collection("POST", [{"attributes": {"type": sobject}, **values}], all_or_none=True)


def _record_id(client: SalesforceClient, ref: tuple[str, str, str]) -> str:
    sobject, key, value = ref
    rows = client.query_all(
        format_soql(f"SELECT Id FROM {sobject} WHERE {key} = {{}}", value)  # noqa: S608
    )
    return str(rows[0]["Id"])


def demo_validation_rule_add(
    *, emulator_url: str, access_token: str, subject: str, message: str
) -> None:
    """An Event validation rule of the org's admin, as real orgs have, refusing Events
    with this subject and no location. The emulator keeps it until it stops."""
    org_id = salesforce_userinfo(instance_url=emulator_url, access_token=access_token)[
        "organization_id"
    ]
    answer = salesforce_http_session().post(
        f"{emulator_url.rstrip('/')}/_emulator/orgs/{org_id}/validation-rules",
        json={
            "sobject": "Event",
            "message": message,
            "field": "Location",
            "when": {"Subject": subject, "Location": None},
        },
        timeout=settings.SALESFORCE_HTTP_TIMEOUT,
    )
    answer.raise_for_status()


def demo_connect(*, tenant: Tenant, member: User, portal_url: str) -> SalesforceConnection:
    """Connect Salesforce through the Connected App (SALESFORCE_CLIENT_ID/SECRET), as the
    settings page does: the authorisation page is answered "Allow" for the person, and
    the code is traded for an access and a refresh token."""
    redirect_uri = portal_url.rstrip("/") + reverse("integrations:salesforce-callback")
    try:
        pending = oauth_authorization_start(redirect_uri=redirect_uri)
    except OAuthError as exc:
        raise CommandError(str(exc)) from exc
    page, _, query = pending.url.partition("?")
    answer = salesforce_http_session().post(
        page,
        data={**dict(parse_qsl(query)), "decision": "allow"},
        allow_redirects=False,
        timeout=settings.SALESFORCE_HTTP_TIMEOUT,
    )
    returned = dict(parse_qsl(urlsplit(answer.headers.get("Location", "")).query))
    if answer.status_code != 302 or returned.get("state") != pending.state:
        raise CommandError(
            f"Salesforce did not authorise the demo's Connected App "
            f"({answer.status_code}): {returned.get('error_description') or answer.text[:200]}"
        )
    try:
        return salesforce_oauth_complete(
            tenant=tenant,
            code=returned.get("code", ""),
            code_verifier=pending.code_verifier,
            redirect_uri=redirect_uri,
            installed_by=member,
        )
    except OAuthError as exc:
        raise CommandError(str(exc)) from exc
