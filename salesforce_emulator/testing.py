"""The Python API tests use: a server in a background thread and handles on its orgs."""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from . import tls
from .faults import Faults
from .registry import Registry
from .server import EmulatorApp
from .store import CONVERTED_LEAD_STATUS, Org, RequestLogEntry, ValidationRule, WriteContext


class _Handler(WSGIRequestHandler):
    # An answer goes out as soon as it is written. Its head and its body are two writes:
    # with Nagle's algorithm the body waited for the client's (delayed) acknowledgement
    # of the head, about 10 ms per request that no org's latency setting asked for.
    disable_nagle_algorithm = True


class _QuietHandler(_Handler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class OrgHandle:
    """One org of a running server, as a test sees it."""

    def __init__(self, registry: Registry, org: Org, access_token: str, refresh_token: str) -> None:
        self._registry = registry
        self._org = org
        self.access_token = access_token
        self.refresh_token = refresh_token

    @property
    def id(self) -> str:
        return self._org.id

    @property
    def name(self) -> str:
        return self._org.name

    @property
    def instance_url(self) -> str:
        return self._registry.instance_url(self._org)

    @property
    def admin_user_id(self) -> str:
        return self._org.admin_user_id

    @property
    def faults(self) -> Faults:
        return self._org.faults

    @property
    def api_calls(self) -> int:
        return self._org.api_calls

    @property
    def request_log(self) -> list[RequestLogEntry]:
        with self._org.lock:
            return list(self._org.request_log)

    @property
    def shared_activities(self) -> bool:
        return self._org.shared_activities

    @property
    def org(self) -> Org:
        """The underlying store, for assertions the handle does not cover."""
        return self._org

    def insert(self, sobject: str, fields: Mapping[str, Any] | None = None, **more: Any) -> str:
        """Seeds a record as the admin user, validated but not counted as an API call.
        System fields (CreatedDate, ...) may be set, to build histories."""
        data = dict(fields or {}, **more)
        ctx = WriteContext(user_id=self._org.admin_user_id, trusted=True)
        return self._org.create(sobject, data, ctx)

    def convert_lead(
        self,
        lead_id: str,
        account_id: str | None = None,
        contact_id: str | None = None,
        create_opportunity: bool = True,
        *,
        opportunity_name: str | None = None,
        converted_status: str = CONVERTED_LEAD_STATUS,
        overwrite_lead_source: bool = False,
    ) -> dict[str, str | None]:
        """Converts a lead as Salesforce's convertLead() does (``Org.convert_lead``), not
        counted as an API call; answers {"leadId", "accountId", "contactId",
        "opportunityId"}."""
        return self._org.convert_lead(
            lead_id,
            account_id=account_id,
            contact_id=contact_id,
            create_opportunity=create_opportunity,
            opportunity_name=opportunity_name,
            converted_status=converted_status,
            overwrite_lead_source=overwrite_lead_source,
        )

    def insert_many(self, sobject: str, rows: list[Mapping[str, Any]]) -> list[str]:
        ctx = WriteContext(user_id=self._org.admin_user_id, trusted=True)
        with self._org.transaction():
            return [self._org.create(sobject, dict(row), ctx) for row in rows]

    def records(self, sobject: str, include_deleted: bool = False) -> list[dict[str, Any]]:
        with self._org.lock:
            return [dict(r) for r in self._org.rows(sobject, include_deleted=include_deleted)]

    def get(self, record_id: str) -> dict[str, Any] | None:
        with self._org.lock:
            found = self._org.record_of(record_id)
            return dict(found[1]) if found else None

    def note_content(self, record_id: str) -> bytes | None:
        return self._org.blobs.get(record_id)

    def add_field(self, sobject: str, name: str, **options: Any) -> None:
        self._org.add_field(sobject, name, **options)

    def add_connected_app(
        self,
        client_id: str,
        client_secret: str,
        callback_urls: list[str] | str,
        name: str = "Connected App",
    ) -> None:
        urls = [callback_urls] if isinstance(callback_urls, str) else list(callback_urls)
        self._registry.add_app(self._org, client_id, client_secret, urls, name)

    def new_access_token(self) -> str:
        return self._registry.issue(self._org, self._org.admin_user_id, None).token

    def expire_sessions(self) -> None:
        self._registry.expire_sessions(self._org.id)

    def revoke_refresh_tokens(self) -> None:
        self._registry.revoke_refresh_tokens(self._org.id)

    def duplicate_rule(self, sobject: str, enabled: bool = True) -> None:
        with self._org.lock:
            name = self._org.obj(sobject).name
            (self._org.duplicate_rules.add if enabled else self._org.duplicate_rules.discard)(name)

    def validation_rule(
        self,
        sobject: str,
        message: str,
        field: str | None = None,
        when: Callable[[Mapping[str, Any]], bool] | Mapping[str, Any] | None = None,
    ) -> None:
        with self._org.lock:
            self._org.validation_rules.append(
                ValidationRule(self._org.obj(sobject).name, message, field, when)
            )

    def set_api_limit(self, max_per_day: int) -> None:
        with self._org.lock:
            self._org.api_max = max_per_day

    def exhaust_api_limit(self) -> None:
        with self._org.lock:
            self._org.api_calls = self._org.api_max

    def lock_record(self, record_id: str) -> None:
        with self._org.lock:
            found = self._org.record_of(record_id)
            if found is None:
                raise KeyError(record_id)
            self._org.locked.add(found[1]["Id"])

    def unlock_record(self, record_id: str) -> None:
        with self._org.lock:
            found = self._org.record_of(record_id)
            if found is not None:
                self._org.locked.discard(found[1]["Id"])

    def set_query_batch_size(self, size: int) -> None:
        self._org.query_batch_size = size

    def set_shared_activities(self, enabled: bool) -> None:
        self._org.shared_activities = enabled


class EmulatorServer:
    """An HTTPS emulator serving from a background thread."""

    def __init__(
        self,
        registry: Registry,
        server: BaseWSGIServer,
        ca_file: Path,
        temp_dir: tempfile.TemporaryDirectory[str] | None,
    ) -> None:
        self.registry = registry
        self._server = server
        self.ca_file = str(ca_file)
        self._temp_dir = temp_dir
        self._thread: threading.Thread | None = None
        self.base_url = registry.base_url

    @classmethod
    def start(
        cls,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ca_file: str | None = None,
        data_file: str | None = None,
    ) -> EmulatorServer:
        server, registry, cert, temp_dir = build(host, port, ca_file=ca_file, data_file=data_file)
        instance = cls(registry, server, cert, temp_dir)
        instance._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="salesforce-emulator",
            daemon=True,
        )
        instance._thread.start()
        return instance

    def create_org(
        self,
        name: str = "Emulated Org",
        shared_activities: bool = True,
        admin_email: str | None = None,
        my_domain: str = "",
    ) -> OrgHandle:
        """A new org; with ``my_domain`` (a host name that reaches this server, such as
        ``localhost``) it has an instance of its own, as a My Domain org does."""
        org, session, grant = self.registry.create_org(
            name,
            shared_activities=shared_activities,
            admin_email=admin_email,
            my_domain=my_domain,
        )
        return OrgHandle(self.registry, org, session.token, grant.token)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.registry.stop_saver()
        if self._temp_dir is not None:
            self._temp_dir.cleanup()

    def __enter__(self) -> EmulatorServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def build(
    host: str,
    port: int,
    *,
    ca_file: str | None = None,
    data_file: str | None = None,
    quiet: bool = True,
) -> tuple[BaseWSGIServer, Registry, Path, tempfile.TemporaryDirectory[str] | None]:
    """A bound, not yet serving, HTTPS server and its registry."""
    temp_dir = None
    if ca_file is None:
        temp_dir = tempfile.TemporaryDirectory(prefix="sf-emulator-")
        cert = Path(temp_dir.name) / "emulator-ca.pem"
    else:
        cert = Path(ca_file)
    context = tls.server_context(cert)
    registry = Registry(data_file=Path(data_file) if data_file else None)
    registry.load()
    app = EmulatorApp(registry)
    server = make_server(
        host,
        port,
        app,
        threaded=True,
        ssl_context=context,
        request_handler=_QuietHandler if quiet else _Handler,
    )
    bound_port = server.socket.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    registry.base_url = f"https://{shown_host}:{bound_port}"
    registry.start_saver()
    logging.getLogger("werkzeug").setLevel(logging.ERROR if quiet else logging.INFO)
    return server, registry, cert, temp_dir


def trusted_session(ca_file: str) -> requests.Session:
    """A session that trusts the emulator's certificate.

    ``Session.verify`` alone is not enough: when REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE is
    set, requests lets the environment override a session-level ``verify``; turning off
    ``trust_env`` keeps the pinned file (and ignores proxy variables, right for a local
    server)."""
    session = requests.Session()
    session.verify = ca_file
    session.trust_env = False
    return session
