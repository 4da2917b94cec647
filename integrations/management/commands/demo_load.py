"""Load the demo tenant: logins, an API key, meetings, a call and a booking, and (when
given) its connection to the bundled Salesforce emulator, with one sync that needs a
person's review and one Salesforce refused. Loading twice changes nothing."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf

from integrations.enums import Operation
from integrations.management.commands._demo_salesforce import (
    DOMAIN,
    demo_connect,
    demo_customers_seed,
    demo_validation_rule_add,
)
from integrations.models import SyncJob
from integrations.salesforce.client import SalesforceClient
from integrations.selectors import salesforce_connection_for_tenant
from integrations.services.actions import activity_log
from integrations.services.settings import (
    integration_settings_get_or_create,
    integration_settings_update,
)
from meetings import services as meeting_services
from meetings.services import PersonInput
from scheduler import services as scheduler_services
from tenants import services as tenant_services
from tenants.models import Membership, Tenant

SECRETS_FILE = Path(settings.BASE_DIR) / "var" / "demo-secrets.json"


def demo_secrets() -> dict[str, str]:
    """The demo's passwords, API key and webhook signing secret live in a local file
    readable by its owner only (never in the repository; the database keeps only the
    key's hash and the signing secret encrypted)."""
    if not SECRETS_FILE.exists():
        return {}
    stored = json.loads(SECRETS_FILE.read_text())
    return {str(k): str(v) for k, v in stored.items()} if isinstance(stored, dict) else {}


def demo_secrets_save(values: dict[str, str]) -> None:
    SECRETS_FILE.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(SECRETS_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # also when an older file was made with a wider mode
    with os.fdopen(fd, "w") as fh:
        json.dump(values, fh, indent=2)


# The demo's recorded meetings: (external id, title, attendees, highlights).
DEMO_ANA = PersonInput(email=f"ana@{DOMAIN}", name="Ana Lopez")
BILL = PersonInput(email="bill.lumbergh@initech.example", name="Bill Lumbergh")
HANK = PersonInput(email="hank.scorpio@globex.example", name="Hank Scorpio")
ALICE = PersonInput(email="alice@umbrella.example", name="Alice Abernathy")
# With people of two customers, the sync cannot tell whose meeting it is: a person picks.
NEEDS_REVIEW_MEETING = "demo-joint-roadmap"
# Its Event is refused by a validation rule of the org (no location given).
REFUSED_MEETING = "demo-umbrella-onsite"
REFUSED_TITLE = "On-site security review with Umbrella"
REFUSED_BECAUSE = "On-site meetings need a location for the visitor log."
DEMO_MEETINGS = [
    (
        "demo-initech-discovery",
        "Discovery call with Initech",
        [DEMO_ANA, BILL],
        [
            ("h1", "We need the TPS reports synced by Q1.", "Bill Lumbergh", "42"),
            ("h2", "Budget approved for 40 seats.", "Bill Lumbergh", "615.5"),
        ],
    ),
    (
        "demo-globex-pricing",
        "Pricing review with Globex",
        [DEMO_ANA, HANK, PersonInput(email="o'brien@globex.example", name="Pat O'Brien")],
        [("h1", "Hank wants a three-year term & a <discount>.", "Hank Scorpio", "120")],
    ),
    (
        "demo-umbrella-intro",
        "Intro with Umbrella",
        [DEMO_ANA, ALICE],
        [("h1", "Send the security questionnaire.", "Alice Abernathy", "30")],
    ),
    (
        NEEDS_REVIEW_MEETING,
        "Joint roadmap with Initech and Globex",
        [DEMO_ANA, BILL, HANK],
        [("h1", "Both want the reporting add-on in the first release.", "Hank Scorpio", "75")],
    ),
    (
        REFUSED_MEETING,
        REFUSED_TITLE,
        [DEMO_ANA, ALICE],
        [("h1", "Their auditors visit in March.", "Alice Abernathy", "210")],
    ),
]


@contextmanager
def tasks_run_here() -> Iterator[None]:
    """The sync jobs the demo starts run in this command, so it ends with them done (or
    waiting for a person, or for a connection) rather than queued for a worker that is
    not up yet."""
    previous = Conf.SYNC
    Conf.SYNC = True
    try:
        yield
    finally:
        Conf.SYNC = previous


def _login(username: str, password: str, defaults: dict[str, Any]) -> User:
    user, created = User.objects.get_or_create(username=username, defaults=defaults)
    if created or not user.check_password(password):
        user.set_password(password)
        user.save()
    return user


class Command(BaseCommand):
    help = "Load (or refresh) the demo tenant. Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--salesforce-url", default="", help="the emulator's base URL")
        parser.add_argument(
            "--salesforce-token", default="", help="an access token of the emulator's admin"
        )
        parser.add_argument("--portal-url", default="http://127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        with tasks_run_here():
            self._load(options)

    def _load(self, options: dict[str, Any]) -> None:
        stored = demo_secrets()
        passwords = {
            "ops": stored.get("ops_password") or secrets.token_urlsafe(12),
            "ana": stored.get("member_password") or secrets.token_urlsafe(12),
        }
        with transaction.atomic():
            tenant, api_key = self._tenant_and_logins(passwords, stored.get("api_key", ""))
            if not integration_settings_get_or_create(tenant=tenant).link_back_base_url:
                integration_settings_update(
                    tenant=tenant, auto_sync=True, link_back_base_url=options["portal_url"]
                )
            self._conversations(tenant)
        webhook_secret = tenant.scheduler_webhook_secret
        demo_secrets_save(
            {
                "ops_password": passwords["ops"],
                "member_password": passwords["ana"],
                "api_key": api_key,
                "scheduler_webhook_secret": webhook_secret,
            }
        )
        if options["salesforce_url"] and options["salesforce_token"]:
            self._salesforce(tenant, options)
        self._summary(tenant, options["portal_url"])
        self.stdout.write(
            self.style.SUCCESS(
                "Demo tenant ready.\n"
                f"  ops login (admin):     ops / {passwords['ops']}\n"
                f"  member login (portal): ana / {passwords['ana']}\n"
                f"  partner API key:       {api_key}\n"
                f"  scheduler webhook signing secret: {webhook_secret}"
            )
        )

    def _salesforce(self, tenant: Tenant, options: dict[str, Any]) -> None:
        """The org's own customers first, so that what the connection wakes up finds them;
        then the connection, unless the tenant had one (a member who disconnected it
        stays disconnected); then the meetings are processed."""
        url, token = options["salesforce_url"], options["salesforce_token"]
        demo_customers_seed(
            SalesforceClient(
                instance_url=url, access_token=token, api_version=settings.SALESFORCE_API_VERSION
            )
        )
        self.stdout.write("Demo customers are in the Salesforce org.")
        connection = salesforce_connection_for_tenant(tenant=tenant)
        if connection is None or connection.connected_at is None:
            if not (settings.SALESFORCE_CLIENT_ID and settings.SALESFORCE_CLIENT_SECRET):
                raise CommandError(
                    "Connecting the demo needs SALESFORCE_CLIENT_ID and "
                    "SALESFORCE_CLIENT_SECRET naming a Connected App of the emulator "
                    "(scripts/run.sh sets them)."
                )
            # The refused meeting has not reached Salesforce yet: nothing syncs before the
            # tenant's first connection.
            demo_validation_rule_add(
                emulator_url=url, access_token=token, subject=REFUSED_TITLE, message=REFUSED_BECAUSE
            )
            member = User.objects.get(username="ana")
            connection = demo_connect(
                tenant=tenant, member=member, portal_url=options["portal_url"]
            )
            self.stdout.write(f"Connected to Salesforce org {connection.org_id}.")
        else:
            self.stdout.write(
                f"Salesforce connection left as it is: {connection.get_status_display()}."
            )
        with transaction.atomic():
            self._processed(tenant)

    def _tenant_and_logins(self, passwords: dict[str, str], api_key: str) -> tuple[Tenant, str]:
        tenant = Tenant.objects.filter(slug="acme").first()
        if tenant is None:
            tenant = tenant_services.tenant_create(
                name="Acme Corp", slug="acme", internal_domains=[DOMAIN]
            )
        _login(
            "ops",
            passwords["ops"],
            {"email": f"ops@{DOMAIN}", "is_staff": True, "is_superuser": True},
        )
        member = _login(
            "ana",
            passwords["ana"],
            {"email": f"ana@{DOMAIN}", "first_name": "Ana", "last_name": "Lopez"},
        )
        tenant_services.membership_add(tenant=tenant, user=member, role=Membership.Role.ADMIN)
        usable = api_key and tenant.api_keys.filter(revoked=False, prefix=api_key.split(".")[0])
        if not usable:
            _, api_key = tenant_services.api_key_create(tenant=tenant, name="Demo partner")
        return tenant, api_key

    def _processed(self, tenant: Tenant) -> None:
        """The demo meetings are processed (auto-sync then sends them) and the demo call is
        logged."""
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

    def _summary(self, tenant: Tenant, portal_url: str) -> None:
        """The syncs a person should look at, with their pages in the admin."""
        waiting = SyncJob.objects.filter(
            tenant=tenant, state__in=[SyncJob.State.NEEDS_REVIEW, SyncJob.State.FAILED]
        ).order_by("pk")
        if not waiting:
            return
        self.stdout.write("Syncs to look at (in the admin, as ops):")
        base = portal_url.rstrip("/")
        for job in waiting:
            page = reverse("admin:integrations_syncjob_change", args=[job.pk])
            self.stdout.write(f"  {job.get_state_display().lower()}: {base}{page}")

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
