"""Fixtures of the partner API contract tests: the tenant connected to an emulator org
(`sf`, as the sync tests have it) and some objects the API can be asked about."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from integrations.models import SyncJob
from tests.conftest import Partner
from tests.factories import (
    ActivityFactory,
    ActivityParticipantFactory,
    AttendeeFactory,
    BookingFactory,
    HighlightFactory,
    MeetingFactory,
    SyncAttemptFactory,
    SyncJobFactory,
    TranscriptFactory,
)
from tests.sync.conftest import sf  # noqa: F401  (the fixture, for the match preview)


@dataclass
class Known:
    """Ids of objects the partner has, so generated requests reach real objects too."""

    meeting: str = "m-1"
    highlight: str = "h-1"
    call: str = "call-1"
    phone_call: str = "phone-1"
    booking: str = "bk-1"
    tenant_slug: str = "acme"
    job_ids: list[int] = field(default_factory=list)


@pytest.fixture
def known(partner: Partner) -> Known:
    tenant = partner.tenant
    meeting = MeetingFactory(tenant=tenant, external_id="m-1")
    AttendeeFactory(meeting=meeting, email="ana@acme.test")
    AttendeeFactory(meeting=meeting, email="bob@initech.example")
    TranscriptFactory(meeting=meeting)
    highlight = HighlightFactory(meeting=meeting, external_id="h-1", offset_seconds=Decimal(95))
    call = ActivityFactory(tenant=tenant, external_id="call-1")
    ActivityParticipantFactory(activity=call, email="lead@prospect.example")
    # Known by phone only: its email is "".
    phone_call = ActivityFactory(tenant=tenant, external_id="phone-1")
    ActivityParticipantFactory(activity=phone_call, email="", phone="+1 555 0100")
    BookingFactory(tenant=tenant, external_id="bk-1")
    failed = SyncJobFactory(local_object=highlight, state=SyncJob.State.FAILED)
    SyncAttemptFactory(job=failed)
    review = SyncJobFactory(
        local_object=meeting, operation="meeting.sync", state=SyncJob.State.NEEDS_REVIEW
    )
    return Known(job_ids=[failed.pk, review.pk])
