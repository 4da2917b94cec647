"""Print a signed delivery of the scheduler webhook for the demo tenant: a curl command
that, pasted while its signature is fresh, creates a booking (which auto-sync then logs
in Salesforce)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import shlex
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from scheduler.services import SIGNATURE_HEADER, scheduler_signature
from tenants.models import Tenant


@dataclass(frozen=True)
class WebhookExample:
    url: str
    signature_header: str
    body: bytes

    def curl(self) -> str:
        lines = [
            f"curl -sS -X POST {shlex.quote(self.url)}",
            f"-H {shlex.quote('Content-Type: application/json')}",
            f"-H {shlex.quote(f'{SIGNATURE_HEADER}: {self.signature_header}')}",
            f"--data-raw {shlex.quote(self.body.decode())}",
        ]
        return " \\\n  ".join(lines)


def webhook_example(*, tenant: Tenant, portal_url: str, now: float) -> WebhookExample:
    """A booking.created event for a new booking, signed as the scheduler signs: HMAC-
    SHA256 of "<timestamp>.<exact body>" with the tenant's secret. Its event id is new
    each time: the portal takes an event once."""
    token = secrets.token_hex(4)
    day = dt.datetime.fromtimestamp(now, dt.UTC).date() + dt.timedelta(days=2)
    start = dt.datetime.combine(day, dt.time(10, 0), tzinfo=dt.UTC)
    event = {
        "id": f"evt-demo-{token}",
        "event": "booking.created",
        "booking": {
            "external_id": f"demo-webhook-{token}",
            "version": 1,
            "host_email": "ana@acme.example",
            "guest_email": "hank.scorpio@globex.example",
            "guest_name": "Hank Scorpio",
            "title": "Globex: contract walkthrough",
            "start": start.isoformat().replace("+00:00", "Z"),
            "end": (start + dt.timedelta(minutes=30)).isoformat().replace("+00:00", "Z"),
        },
    }
    body = json.dumps(event, separators=(",", ":")).encode()
    timestamp = int(now)
    signature = scheduler_signature(
        secret=tenant.scheduler_webhook_secret, timestamp=timestamp, body=body
    )
    path = reverse("api:scheduler-webhook", kwargs={"tenant_slug": tenant.slug})
    return WebhookExample(
        url=portal_url.rstrip("/") + path,
        signature_header=f"t={timestamp},v1={signature}",
        body=body,
    )


class Command(BaseCommand):
    help = "Print a signed curl example of the demo tenant's scheduler webhook."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--portal-url", default="http://127.0.0.1:8000")
        parser.add_argument("--tenant", default="acme", help="the tenant's slug")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None or not tenant.scheduler_webhook_secret:
            raise CommandError(
                f"No tenant '{options['tenant']}' with a signing secret: load the demo first."
            )
        example = webhook_example(tenant=tenant, portal_url=options["portal_url"], now=time.time())
        minutes = settings.SCHEDULER_WEBHOOK_TOLERANCE_SECONDS // 60
        self.stdout.write(
            f"Scheduler webhook of {tenant.name} (signing secret: "
            f"{tenant.scheduler_webhook_secret}).\n"
            f'{SIGNATURE_HEADER} is t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">. '
            f"This delivery is accepted for {minutes} minutes, once; "
            "`.venv/bin/python manage.py demo_webhook` prints a fresh one:"
        )
        self.stdout.write(example.curl())
