"""Load the demo tenant: logins, an API key, meetings, a call and a booking, and (when
given) its connection to the bundled Salesforce emulator. Loading twice changes nothing."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from integrations.enums import Operation
from integrations.models import SyncJob
from integrations.salesforce.client import SalesforceClient, format_soql
from integrations.services.actions import activity_log
from integrations.services.connection import salesforce_connection_connect
from integrations.services.settings import integration_settings_get_or_create
from meetings import services as meeting_services
from meetings.services import PersonInput
from scheduler import services as scheduler_services
from tenants import services as tenant_services
from tenants.models import Membership, Tenant

SECRETS_FILE = Path(settings.BASE_DIR) / "var" / "demo-secrets.json"
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


def demo_secrets() -> dict[str, str]:
    """The demo's password and API key live in a local file readable by its owner only
    (never in the repository; the database keeps only the key's hash)."""
    if not SECRETS_FILE.exists():
        return {}
    stored = json.loads(SECRETS_FILE.read_text())
    return {str(k): str(v) for k, v in stored.items()} if isinstance(stored, dict) else {}


def demo_secrets_save(values: dict[str, str]) -> None:
    SECRETS_FILE.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(SECRETS_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(values, fh, indent=2)


# The demo's recorded meetings: (external id, title, attendees, highlights).
DEMO_ANA = PersonInput(email=f"ana@{DOMAIN}", name="Ana Lopez")
DEMO_MEETINGS = [
    (
        "demo-initech-discovery",
        "Discovery call with Initech",
        [DEMO_ANA, PersonInput(email="bill.lumbergh@initech.example", name="Bill Lumbergh")],
        [
            ("h1", "We need the TPS reports synced by Q1.", "Bill Lumbergh", "42"),
            ("h2", "Budget approved for 40 seats.", "Bill Lumbergh", "615.5"),
        ],
    ),
    (
        "demo-globex-pricing",
        "Pricing review with Globex",
        [
            DEMO_ANA,
            PersonInput(email="hank.scorpio@globex.example", name="Hank Scorpio"),
            PersonInput(email="o'brien@globex.example", name="Pat O'Brien"),
        ],
        [("h1", "Hank wants a three-year term & a <discount>.", "Hank Scorpio", "120")],
    ),
    (
        "demo-umbrella-intro",
        "Intro with Umbrella",
        [DEMO_ANA, PersonInput(email="alice@umbrella.example", name="Alice Abernathy")],
        [("h1", "Send the security questionnaire.", "Alice Abernathy", "30")],
    ),
]


class Command(BaseCommand):
    help = "Load (or refresh) the demo tenant. Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--salesforce-url", default="", help="the emulator's base URL")
        parser.add_argument("--salesforce-token", default="", help="an access token it accepts")
        parser.add_argument("--portal-url", default="http://127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        stored = demo_secrets()
        password = stored.get("password") or secrets.token_urlsafe(12)
        with transaction.atomic():
            tenant, api_key = self._tenant_and_logins(password, stored.get("api_key", ""))
            settings_row = integration_settings_get_or_create(tenant=tenant)
            if not settings_row.link_back_base_url:
                settings_row.auto_sync = True
                settings_row.link_back_base_url = options["portal_url"]
                settings_row.save()
            self._conversations(tenant)
        demo_secrets_save({"password": password, "api_key": api_key})
        if options["salesforce_url"] and options["salesforce_token"]:
            # The org's own customers first, so that what the connection wakes up finds
            # them.
            self._salesforce_records(
                SalesforceClient(
                    instance_url=options["salesforce_url"],
                    access_token=options["salesforce_token"],
                    api_version=settings.SALESFORCE_API_VERSION,
                )
            )
            member = get_user_model().objects.get(username="ana")
            connection = salesforce_connection_connect(
                tenant=tenant,
                instance_url=options["salesforce_url"],
                access_token=options["salesforce_token"],
                installed_by=member,
            )
            self.stdout.write(f"Connected to Salesforce org {connection.org_id}.")
            with transaction.atomic():
                self._processed(tenant)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo tenant ready.\n"
                f"  ops login (admin):     ops / {password}\n"
                f"  member login (portal): ana / {password}\n"
                f"  partner API key:       {api_key}"
            )
        )

    def _tenant_and_logins(self, password: str, api_key: str) -> tuple[Tenant, str]:
        tenant = Tenant.objects.filter(slug="acme").first()
        if tenant is None:
            tenant = tenant_services.tenant_create(
                name="Acme Corp", slug="acme", internal_domains=[DOMAIN]
            )
        user_model = get_user_model()
        ops, created = user_model.objects.get_or_create(
            username="ops",
            defaults={"email": f"ops@{DOMAIN}", "is_staff": True, "is_superuser": True},
        )
        if created or not ops.check_password(password):
            ops.set_password(password)
            ops.save()
        member, created = user_model.objects.get_or_create(
            username="ana",
            defaults={"email": f"ana@{DOMAIN}", "first_name": "Ana", "last_name": "Lopez"},
        )
        if created or not member.check_password(password):
            member.set_password(password)
            member.save()
        tenant_services.membership_add(tenant=tenant, user=member, role=Membership.Role.ADMIN)
        usable = api_key and tenant.api_keys.filter(revoked=False, prefix=api_key.split(".")[0])
        if not usable:
            _, api_key = tenant_services.api_key_create(tenant=tenant, name="Demo partner")
        return tenant, api_key

    def _salesforce_records(self, client: SalesforceClient) -> None:
        """What the demo org already knows: the customers the demo meetings are with, so
        the sync has something to match. Each record is made once."""
        for sobject, key, fields in DEMO_SALESFORCE:
            found = client.query_all(
                format_soql(f"SELECT Id FROM {sobject} WHERE {key} = {{}}", fields[key])  # noqa: S608
            )
            if found:
                continue
            values = {
                name: (self._record_id(client, value) if isinstance(value, tuple) else value)
                for name, value in fields.items()
            }
            client.collection(
                "POST", [{"attributes": {"type": sobject}, **values}], all_or_none=True
            )
        self.stdout.write("Demo customers are in the Salesforce org.")

    @staticmethod
    def _record_id(client: SalesforceClient, ref: tuple[str, str, str]) -> str:
        sobject, key, value = ref
        rows = client.query_all(
            format_soql(f"SELECT Id FROM {sobject} WHERE {key} = {{}}", value)  # noqa: S608
        )
        return str(rows[0]["Id"])

    def _processed(self, tenant: Tenant) -> None:
        """The demo meetings are processed (auto-sync then sends them) and the demo call is
        logged, so the worker has real work the moment it starts."""
        for meeting in tenant.meetings.filter(external_id__startswith="demo-"):
            meeting_services.meeting_mark_processed(meeting=meeting)
        call = tenant.activities.filter(external_id="demo-call-1").first()
        if (
            call is not None
            and not SyncJob.objects.filter(
                tenant=tenant,
                operation=Operation.ACTIVITY_SYNC,
                params__requested=True,
            ).exists()
        ):
            activity_log(activity=call)

    def _conversations(self, tenant: Tenant) -> None:
        # Fixed times so that loading again changes nothing.
        base = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)
        ana = DEMO_ANA
        meetings = DEMO_MEETINGS
        for n, (external_id, title, attendees, highlights) in enumerate(meetings):
            start = base + dt.timedelta(days=n)
            meeting, _ = meeting_services.meeting_upsert(
                tenant=tenant,
                external_id=external_id,
                title=title,
                start=start,
                end=start + dt.timedelta(minutes=45),
                organizer_email=ana.email,
                recording_url=f"https://recordings.example.com/{external_id}",
                attendees=attendees,
            )
            for hid, text, speaker, offset in highlights:
                meeting_services.highlight_upsert(
                    meeting=meeting,
                    external_id=hid,
                    text=text,
                    speaker=speaker,
                    offset_seconds=Decimal(offset),
                )
            meeting_services.meeting_transcript_set(
                meeting=meeting, text="\n".join(f"{h[2]}: {h[1]}" for h in highlights)
            )
        meeting_services.activity_upsert(
            tenant=tenant,
            external_id="demo-call-1",
            kind="call",
            direction="outbound",
            started_at=base + dt.timedelta(days=3),
            duration_seconds=540,
            subject="Follow-up on the Initech proposal",
            notes="Walked through the proposal; they want references.",
            logged_by_email=ana.email,
            logged_by_name="Ana Lopez",
            participants=[
                ana,
                PersonInput(email="bill.lumbergh@initech.example", phone="+15550100"),
            ],
        )
        booking_start = max(base + dt.timedelta(days=10), timezone.now()).replace(
            hour=16, minute=0, second=0, microsecond=0
        )
        if not tenant.bookings.filter(external_id="demo-booking-1").exists():
            scheduler_services.booking_upsert(
                tenant=tenant,
                external_id="demo-booking-1",
                version=1,
                host_email=ana.email,
                guest_email="alice@umbrella.example",
                guest_name="Alice Abernathy",
                title="Umbrella: product demo",
                description="Booked through the meeting scheduler.",
                start=booking_start,
                end=booking_start + dt.timedelta(minutes=30),
            )
