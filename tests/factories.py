"""factory_boy factories, one per model. Factories write rows directly (for setting up
state); tests of behaviour go through services or the API."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from integrations.models import (
    IntegrationSettings,
    SalesforceConnection,
    SyncAttempt,
    SyncJob,
    SyncMapping,
)
from integrations.outbox.enqueue import lock_key_for
from meetings.models import Activity, ActivityParticipant, Attendee, Highlight, Meeting, Transcript
from scheduler.models import Booking, SchedulerWebhookEvent
from tenants.models import Membership, Tenant, TenantAPIKey


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"member{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@acme.test")
    password = factory.django.Password("correct horse battery staple")


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")
    internal_domains = factory.LazyAttribute(lambda t: [f"{t.slug}.test"])
    scheduler_webhook_secret = factory.LazyFunction(lambda: secrets.token_urlsafe(32))


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MEMBER


class TenantAPIKeyFactory(factory.django.DjangoModelFactory):
    """Builds a usable key; the plain key is on the instance as `plain_key`."""

    class Meta:
        model = TenantAPIKey

    tenant = factory.SubFactory(TenantFactory)
    name = "partner"

    @classmethod
    def _create(cls, model_class: type[TenantAPIKey], *args: Any, **kwargs: Any) -> TenantAPIKey:
        api_key, plain_key = model_class.objects.create_key(**kwargs)
        api_key.plain_key = plain_key
        return api_key


class SalesforceConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesforceConnection

    tenant = factory.SubFactory(TenantFactory)
    instance_url = "https://127.0.0.1:8765"
    org_id = "00D000000000001AAA"
    access_token = factory.LazyFunction(lambda: secrets.token_urlsafe(24))
    refresh_token = factory.LazyFunction(lambda: secrets.token_urlsafe(24))
    installer_salesforce_user_id = "005000000000001AAA"
    status = SalesforceConnection.Status.CONNECTED
    connected_at = factory.LazyFunction(timezone.now)


class IntegrationSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntegrationSettings

    tenant = factory.SubFactory(TenantFactory)


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    tenant = factory.SubFactory(TenantFactory)
    external_id = factory.Sequence(lambda n: f"mtg-{n}")
    title = factory.Sequence(lambda n: f"Discovery call {n}")
    start = factory.LazyFunction(lambda: timezone.now().replace(microsecond=0))
    end = factory.LazyAttribute(lambda m: m.start + dt.timedelta(minutes=30))
    recording_url = "https://recordings.example.com/1"


class AttendeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attendee

    meeting = factory.SubFactory(MeetingFactory)
    email = factory.Sequence(lambda n: f"guest{n}@customer.example")
    name = factory.Sequence(lambda n: f"Guest {n}")


class TranscriptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Transcript

    meeting = factory.SubFactory(MeetingFactory)
    text = "Hello and welcome."


class HighlightFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Highlight

    meeting = factory.SubFactory(MeetingFactory)
    tenant = factory.SelfAttribute("meeting.tenant")
    external_id = factory.Sequence(lambda n: f"hl-{n}")
    text = factory.Sequence(lambda n: f"We agreed on next step {n}.")
    speaker = "Ana"
    offset_seconds = Decimal("12.5")


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    tenant = factory.SubFactory(TenantFactory)
    external_id = factory.Sequence(lambda n: f"act-{n}")
    kind = Activity.Kind.CALL
    direction = Activity.Direction.OUTBOUND
    started_at = factory.LazyFunction(lambda: timezone.now().replace(microsecond=0))
    duration_seconds = 300
    subject = "Follow-up call"
    logged_by_email = factory.LazyAttribute(lambda a: f"agent@{a.tenant.internal_domains[0]}")


class ActivityParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActivityParticipant

    activity = factory.SubFactory(ActivityFactory)
    email = factory.Sequence(lambda n: f"prospect{n}@customer.example")


class BookingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Booking

    tenant = factory.SubFactory(TenantFactory)
    external_id = factory.Sequence(lambda n: f"bkg-{n}")
    host_email = factory.LazyAttribute(lambda b: f"host@{b.tenant.internal_domains[0]}")
    guest_email = factory.Sequence(lambda n: f"guest{n}@customer.example")
    guest_name = "Guest"
    title = "Intro meeting"
    start = factory.LazyFunction(
        lambda: timezone.now().replace(microsecond=0) + dt.timedelta(days=2)
    )
    end = factory.LazyAttribute(lambda b: b.start + dt.timedelta(minutes=30))
    version = 1


class SchedulerWebhookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SchedulerWebhookEvent

    tenant = factory.SubFactory(TenantFactory)
    event_id = factory.Sequence(lambda n: f"evt-{n}")
    event_type = "booking.created"
    outcome = "created"


class SyncMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncMapping
        exclude = ["local_object"]

    local_object = factory.SubFactory(HighlightFactory)
    tenant = factory.SelfAttribute("local_object.tenant")
    content_type = factory.LazyAttribute(
        lambda m: ContentType.objects.get_for_model(m.local_object)
    )
    object_id = factory.SelfAttribute("local_object.pk")
    purpose = "highlight_note"
    salesforce_object = "ContentNote"
    salesforce_id = factory.Sequence(lambda n: f"069{n:015d}")


class SyncJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncJob
        exclude = ["local_object"]

    local_object = factory.SubFactory(HighlightFactory)
    tenant = factory.SelfAttribute("local_object.tenant")
    content_type = factory.LazyAttribute(
        lambda j: ContentType.objects.get_for_model(j.local_object)
    )
    object_id = factory.SelfAttribute("local_object.pk")
    operation = "highlight.sync"
    lock_key = factory.LazyAttribute(lambda j: lock_key_for(j.local_object))


class SyncAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncAttempt

    job = factory.SubFactory(SyncJobFactory)
    started_at = factory.LazyFunction(timezone.now)
    outcome = SyncAttempt.Outcome.SUCCEEDED
