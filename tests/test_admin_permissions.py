"""Admin permissions mean what they say: a staff user with *view* permissions reads
every page and changes nothing; *change* permissions edit what is editable but run no
action on syncs or credentials; those need "operate syncs" or "manage tenant
credentials". Actions and custom pages are enumerated from the admin itself, so a new
one is covered the day it is added."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.db import models
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone
from django_q.models import OrmQ, Schedule, Task

from integrations.models import MatchChoice, SalesforceConnection, SyncJob, SyncMapping
from tenants.models import Tenant, TenantAPIKey
from tests.factories import SyncJobFactory, UserFactory
from tests.test_admin import everything  # noqa: F401  (a fixture: one row of each model)

pytestmark = pytest.mark.django_db

OUR_APPS = {"core", "tenants", "meetings", "scheduler", "integrations", "portal"}
STOCK_VIEWS = ("changelist", "add", "history", "delete", "change")
STOCK_SITE_URLS = {
    "index",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "autocomplete",
    "jsi18n",
    "view_on_site",
    "app_list",
}
# Given to every custom page on POST: what a page that changes something might take.
PLAUSIBLE_POST = {"salesforce_id": "001000000000001AAA", "reason": "Checked by hand."}


def request_as(user: User) -> HttpRequest:
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def _actions_offered_to_a_superuser() -> list[tuple[str, str]]:
    # An active superuser holds every permission without asking the database, so the
    # actions can be listed when tests are collected.
    superuser = User(username="enumerator", is_active=True, is_staff=True, is_superuser=True)
    return sorted(
        (model._meta.label, name)
        for model, model_admin in admin.site._registry.items()
        for name in model_admin.get_actions(request_as(superuser))
    )


ACTIONS = _actions_offered_to_a_superuser()
MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)


def custom_admin_urls() -> list[tuple[str, type[models.Model] | None, list[str]]]:
    """(url name, model whose objects fill its arguments, argument names) for every admin
    URL that is not one of Django's own and belongs to one of our apps."""
    found: list[tuple[str, type[models.Model] | None, list[str]]] = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in OUR_APPS:
            continue
        stock = {f"{model._meta.app_label}_{model._meta.model_name}_{v}" for v in STOCK_VIEWS}
        for pattern in model_admin.get_urls():
            if pattern.name and pattern.name not in stock:
                found.append((pattern.name, model, list(pattern.pattern.converters)))
    for entry in admin.site.get_urls():
        if isinstance(entry, URLPattern) and entry.name and entry.name not in STOCK_SITE_URLS:
            found.append((entry.name, None, list(entry.pattern.converters)))
        elif isinstance(entry, URLResolver):
            continue  # a model's URLs, listed above
    return sorted(found, key=lambda f: f[0])


CUSTOM_URLS = custom_admin_urls()


def staff_with(*prefixes: str) -> User:
    """Staff holding every `<prefix>_*` permission of every model, and nothing else (the
    custom permissions `operate_syncs` and `manage_tenant_credentials` start otherwise)."""
    user = UserFactory(username=f"staff-{'-'.join(prefixes)}", is_staff=True)
    perms = Permission.objects.none()
    for prefix in prefixes:
        perms |= Permission.objects.filter(codename__startswith=f"{prefix}_")
    # Changing users and groups is making superusers, in any Django admin: those
    # permissions are given to nobody but the people who run the portal.
    perms = perms.exclude(content_type__app_label="auth", codename__startswith="change_")
    user.user_permissions.set(perms)
    assert not user.has_perm("integrations.operate_syncs")
    return User.objects.get(pk=user.pk)  # permissions are cached per instance


@pytest.fixture
def view_only() -> User:
    return staff_with("view")


@pytest.fixture
def change_only() -> User:
    return staff_with("view", "change")


@pytest.fixture
def superuser() -> User:
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def console(everything: None, tenant: Tenant) -> Iterator[None]:  # noqa: F811
    """Something for every action and page: a paused connection, a failed and a pending
    job, a confirmed mapping, a remembered answer, workers' tasks and queue, a group, a
    schedule."""
    SalesforceConnection.objects.filter(tenant=tenant).update(
        paused_until=timezone.now() + dt.timedelta(hours=2)
    )
    job = SyncJob.objects.first()
    assert job is not None
    SyncJobFactory(local_object=job.local_object, state=SyncJob.State.FAILED, lock_key="")
    SyncJobFactory(local_object=job.local_object, state=SyncJob.State.PENDING, lock_key="")
    SyncMapping.objects.update(state=SyncMapping.State.CONFIRMED)
    now = timezone.now()
    for success in (True, False):
        Task.objects.create(
            id=uuid.uuid4().hex,
            name=f"task-{success}",
            func="math.floor",
            args=(1.5,),
            started=now,
            stopped=now,
            success=success,
        )
    OrmQ.objects.create(key="default", payload="not a task")
    MatchChoice.objects.create(
        tenant=tenant,
        email="bob@initech.example",
        salesforce_object="Contact",
        salesforce_id="003000000000001AAA",
    )
    Group.objects.create(name="Ops")
    Schedule.objects.create(name="sweep", func="math.floor", args="1.5")
    yield


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every model the admin shows, field by field."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values())
        for model in admin.site._registry
    }


def every_pk(model: type[models.Model]) -> list[str]:
    return [str(pk) for pk in model._default_manager.values_list("pk", flat=True)]


@pytest.mark.parametrize(("label", "action"), ACTIONS, ids=[f"{m}:{a}" for m, a in ACTIONS])
def test_only_those_allowed_are_offered_and_may_run_each_action(
    console: None,
    view_only: User,
    change_only: User,
    superuser: User,
    label: str,
    action: str,
) -> None:
    model = apps.get_model(label)
    model_admin = admin.site._registry[model]
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    selected = every_pk(model)
    assert selected, f"nothing to run {action} on"

    for user in (view_only, change_only):
        assert action not in model_admin.get_actions(request_as(user)), user.username
        client = client_of(user)  # signing in is a change (last_login): done before
        before = snapshot()
        answer = client.post(
            changelist, {"action": action, "_selected_action": selected, "index": 0}
        )
        assert answer.status_code in (200, 302, 403)
        assert snapshot() == before, f"{user.username} changed something with {action}"

    assert action in model_admin.get_actions(request_as(superuser))


def test_view_and_change_permissions_make_no_credential_and_run_no_sync(
    console: None, view_only: User, change_only: User, tenant: Tenant
) -> None:
    secret = Tenant.objects.get(pk=tenant.pk).scheduler_webhook_secret
    keys = set(TenantAPIKey.objects.values_list("pk", "revoked"))
    jobs = set(SyncJob.objects.values_list("pk", "state", "next_attempt_at"))
    paused_until = SalesforceConnection.objects.get(tenant=tenant).paused_until

    for user in (view_only, change_only):
        client = client_of(user)
        for changelist, action, model in [
            ("admin:tenants_tenant_changelist", "create_api_key", Tenant),
            ("admin:tenants_tenant_changelist", "rotate_webhook_secret", Tenant),
            ("admin:tenants_tenantapikey_changelist", "revoke", TenantAPIKey),
            ("admin:integrations_syncjob_changelist", "retry_failed", SyncJob),
            ("admin:integrations_syncjob_changelist", "run_now", SyncJob),
            ("admin:integrations_salesforceconnection_changelist", "resume_syncing", None),
        ]:
            pks = every_pk(model or SalesforceConnection)
            client.post(
                reverse(changelist), {"action": action, "_selected_action": pks, "index": 0}
            )

    assert Tenant.objects.get(pk=tenant.pk).scheduler_webhook_secret == secret
    assert set(TenantAPIKey.objects.values_list("pk", "revoked")) == keys
    assert set(SyncJob.objects.values_list("pk", "state", "next_attempt_at")) == jobs
    assert SalesforceConnection.objects.get(tenant=tenant).paused_until == paused_until


def test_there_are_custom_admin_pages_to_check() -> None:
    names = [name for name, _, _ in CUSTOM_URLS]

    assert "integrations_syncmapping_reassign" in names
    assert "integrations_syncjob_resolve" in names


@pytest.mark.parametrize(
    ("name", "model", "arguments"), CUSTOM_URLS, ids=[name for name, _, _ in CUSTOM_URLS]
)
def test_a_view_only_user_is_refused_every_custom_admin_page_on_post(
    console: None,
    view_only: User,
    name: str,
    model: type[models.Model] | None,
    arguments: list[str],
) -> None:
    obj = model._default_manager.first() if model is not None else None
    if arguments and obj is None:
        pytest.fail(f"no {model} to open {name} with")
    url = reverse(f"admin:{name}", kwargs={arg: obj.pk for arg in arguments if obj})
    client = client_of(view_only)
    before = snapshot()

    answer = client.post(url, PLAUSIBLE_POST)

    # A page that only shows something may refuse POST outright (405).
    assert answer.status_code in (403, 405), url
    assert snapshot() == before


@pytest.mark.parametrize("model", MODELS, ids=[m._meta.label for m in MODELS])
def test_a_view_only_user_opens_every_list_and_every_page(
    console: None, view_only: User, model: type[models.Model]
) -> None:
    opts = model._meta
    client = client_of(view_only)
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    obj = model._default_manager.first()
    assert obj is not None, f"no {opts.label} to open"
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])

    assert client.get(changelist).status_code == 200
    page = client.get(change)
    assert page.status_code == 200
    # A view page: nothing to save.
    assert 'name="_save"' not in page.content.decode()


def test_no_one_edits_the_code_the_workers_run(
    console: None, change_only: User, superuser: User
) -> None:
    """A schedule names a function and its arguments: editing it would run any code
    on the workers, with the database and the key to the tenants' tokens."""
    schedule = Schedule.objects.get(name="sweep")
    schedules = list(Schedule.objects.order_by("pk").values_list("name", "func", "args"))
    queued = every_pk(OrmQ)

    for user in (change_only, superuser):
        client = client_of(user)
        edit = client.post(
            reverse("admin:django_q_schedule_change", args=[schedule.pk]),
            {"name": "sweep", "func": "os.system", "args": "'id'", "schedule_type": "O"},
        )
        add = client.post(
            reverse("admin:django_q_schedule_add"),
            {"name": "mine", "func": "os.system", "args": "'id'", "schedule_type": "O"},
        )
        assert (edit.status_code, add.status_code) == (403, 403)

    assert list(Schedule.objects.order_by("pk").values_list("name", "func", "args")) == schedules
    assert every_pk(OrmQ) == queued


def test_who_belongs_to_a_tenant_is_changed_only_with_the_credentials_permission(
    console: None, change_only: User, tenant: Tenant
) -> None:
    """A tenant admin connects its Salesforce and holds its keys: making oneself one
    is managing the tenant's credentials."""
    membership = tenant.memberships.first()
    assert membership is not None
    before = list(tenant.memberships.values_list("user_id", "role"))
    client = client_of(change_only)

    changed = client.post(
        reverse("admin:tenants_membership_change", args=[membership.pk]),
        {"tenant": tenant.pk, "user": change_only.pk, "role": "admin"},
    )
    added = client.post(
        reverse("admin:tenants_membership_add"),
        {"tenant": tenant.pk, "user": change_only.pk, "role": "admin"},
    )

    assert (changed.status_code, added.status_code) == (403, 403)
    assert list(tenant.memberships.values_list("user_id", "role")) == before

    change_only.user_permissions.add(
        *Permission.objects.filter(codename__in=["manage_tenant_credentials", "add_membership"])
    )
    allowed = client_of(User.objects.get(pk=change_only.pk)).post(
        reverse("admin:tenants_membership_add"),
        {"tenant": tenant.pk, "user": change_only.pk, "role": "member"},
    )
    assert allowed.status_code == 302


def test_a_remembered_answer_is_not_edited_by_hand(console: None, change_only: User) -> None:
    choice = MatchChoice.objects.get()

    answer = client_of(change_only).post(
        reverse("admin:integrations_matchchoice_change", args=[choice.pk]),
        {
            "tenant": choice.tenant_id,
            "email": choice.email,
            "salesforce_object": "Whatever",
            "salesforce_id": "zzz",
        },
    )

    assert answer.status_code == 403
    choice.refresh_from_db()
    assert (choice.salesforce_object, choice.salesforce_id) == ("Contact", "003000000000001AAA")


@pytest.mark.parametrize(
    ("name", "model", "arguments"), CUSTOM_URLS, ids=[name for name, _, _ in CUSTOM_URLS]
)
def test_opening_a_custom_admin_page_changes_nothing(
    console: None,
    view_only: User,
    superuser: User,
    name: str,
    model: type[models.Model] | None,
    arguments: list[str],
) -> None:
    obj = model._default_manager.first() if model is not None else None
    url = reverse(f"admin:{name}", kwargs={arg: obj.pk for arg in arguments if obj})
    clients = [client_of(view_only), client_of(superuser)]  # signing in is a change
    before = snapshot()

    for client in clients:
        answer = client.get(url, {"q": "Initech"})
        assert answer.status_code in (200, 302, 403, 405), url

    assert snapshot() == before


def test_credential_actions_are_recorded_in_the_tenants_history(
    console: None, superuser: User, tenant: Tenant
) -> None:
    from django.contrib.admin.models import LogEntry

    client = client_of(superuser)
    for action in ("create_api_key", "rotate_webhook_secret"):
        client.post(
            reverse("admin:tenants_tenant_changelist"),
            {"action": action, "_selected_action": [tenant.pk], "index": 0},
        )

    history = list(
        LogEntry.objects.filter(object_id=str(tenant.pk)).values_list("change_message", flat=True)
    )
    assert any("Created the API key" in m for m in history)
    assert any("Rotated the scheduler webhook secret" in m for m in history)
    secret = Tenant.objects.get(pk=tenant.pk).scheduler_webhook_secret
    assert not any(secret in m for m in history)
