"""Everything a server holds: orgs, sessions, connected apps, and the optional data file."""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import ids
from .errors import invalid_session
from .store import Org, WriteContext


@dataclass
class Session:
    token: str
    org_id: str
    user_id: str
    client_id: str | None = None
    issued_at: int = 0  # ms since epoch, as the token endpoint reports it
    refresh_token: str | None = None


@dataclass
class RefreshGrant:
    token: str
    org_id: str
    user_id: str
    client_id: str | None = None


@dataclass
class ConnectedApp:
    client_id: str
    client_secret: str
    callback_urls: list[str]
    org_id: str
    name: str = "Connected App"
    client_credentials: bool = True


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    org_id: str
    user_id: str
    challenge: str | None
    challenge_method: str | None
    expires: float
    scope: str


@dataclass
class Registry:
    base_url: str = ""
    data_file: Path | None = None
    id_factory: ids.IdFactory = field(default_factory=ids.IdFactory)
    orgs: dict[str, Org] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    ended: dict[str, str] = field(default_factory=dict)  # expired token -> org id
    refresh: dict[str, RefreshGrant] = field(default_factory=dict)
    apps: dict[str, ConnectedApp] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _save_wanted: threading.Event = field(default_factory=threading.Event)
    _saver: threading.Thread | None = None
    _stopping: bool = False

    # ----- Orgs and sessions ----------------------------------------------------

    def create_org(
        self,
        name: str = "Emulated Org",
        *,
        shared_activities: bool = True,
        admin_email: str | None = None,
        org_id: str | None = None,
        access_token: str | None = None,
        my_domain: str = "",
    ) -> tuple[Org, Session, RefreshGrant]:
        my_domain = my_domain.strip().lower()
        if my_domain and (not _HOST_RE.match(my_domain) or self.org_of_domain(my_domain)):
            raise ValueError(f"not a host name free for an org: {my_domain!r}")
        org = Org(
            id=org_id or self.id_factory.new("00D"),
            name=name,
            id_factory=self.id_factory,
            shared_activities=shared_activities,
            my_domain=my_domain,
        )
        slug = re.sub(r"[^a-z0-9]+", "", name.lower())[:24] or "org"
        email = admin_email or f"admin@{slug}.example.com"
        seed = WriteContext(user_id="005000000000000AAA", trusted=True)
        user_id = org.create(
            "User",
            {
                "Username": f"{email.split('@')[0]}.{org.id[-8:].lower()}@{email.split('@')[1]}",
                "Email": email,
                "FirstName": "Admin",
                "LastName": "User",
                "Alias": "admin",
            },
            seed,
        )
        row = dict(org.tables["User"][user_id])
        row.update(CreatedById=user_id, LastModifiedById=user_id)
        org.tables["User"][user_id] = row
        org.admin_user_id = user_id
        with self.lock:
            self.orgs[org.id] = org
            org.on_change = self.request_save
            session = self.issue(org, user_id, None, token=access_token)
            grant = self.grant_refresh(org, user_id, None)
        self.request_save()
        return org, session, grant

    def issue(
        self,
        org: Org,
        user_id: str,
        client_id: str | None,
        token: str | None = None,
        refresh_token: str | None = None,
    ) -> Session:
        token = token or f"{org.id[:15]}!{secrets.token_urlsafe(72)}"
        session = Session(token, org.id, user_id, client_id, int(time.time() * 1000), refresh_token)
        with self.lock:
            self.sessions[token] = session
        self.request_save()
        return session

    def grant_refresh(self, org: Org, user_id: str, client_id: str | None) -> RefreshGrant:
        grant = RefreshGrant(f"5Aep{secrets.token_urlsafe(64)}", org.id, user_id, client_id)
        with self.lock:
            self.refresh[grant.token] = grant
        self.request_save()
        return grant

    def authenticate(self, authorization: str | None) -> tuple[Org, Session]:
        token = _bearer(authorization)
        with self.lock:
            session = self.sessions.get(token or "")
            if session is None or session.org_id not in self.orgs:
                raise invalid_session()
            return self.orgs[session.org_id], session

    def org_of_token(self, authorization: str | None) -> Org | None:
        """The org a (possibly expired) token belonged to, for the request log."""
        token = _bearer(authorization) or ""
        with self.lock:
            session = self.sessions.get(token)
            org_id = session.org_id if session else self.ended.get(token)
            return self.orgs.get(org_id or "")

    def expire_sessions(self, org_id: str) -> None:
        with self.lock:
            for token, session in list(self.sessions.items()):
                if session.org_id == org_id:
                    del self.sessions[token]
                    self.ended[token] = org_id
        self.request_save()

    def revoke_refresh_tokens(self, org_id: str) -> None:
        with self.lock:
            for token, grant in list(self.refresh.items()):
                if grant.org_id == org_id:
                    del self.refresh[token]
        self.request_save()

    def revoke(self, token: str) -> bool:
        """Revokes an access or refresh token; a refresh token takes its sessions along."""
        with self.lock:
            if token in self.sessions:
                self.ended[token] = self.sessions.pop(token).org_id
                self.request_save()
                return True
            if token in self.refresh:
                del self.refresh[token]
                for access, session in list(self.sessions.items()):
                    if session.refresh_token == token:
                        self.ended[access] = self.sessions.pop(access).org_id
                self.request_save()
                return True
        return False

    def add_app(
        self,
        org: Org,
        client_id: str,
        client_secret: str,
        callback_urls: list[str],
        name: str = "Connected App",
    ) -> ConnectedApp:
        app = ConnectedApp(client_id, client_secret, list(callback_urls), org.id, name)
        with self.lock:
            self.apps[client_id] = app
        self.request_save()
        return app

    def identity_url(self, org_id: str, user_id: str) -> str:
        return f"{self.base_url}/id/{org_id}/{user_id}"

    # ----- Instances: the host each org is served on ------------------------------

    def instance_url(self, org: Org) -> str:
        """The org's own host when it has one (on the server's port), else the server's."""
        if not org.my_domain:
            return self.base_url
        parts = urlsplit(self.base_url)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{org.my_domain}{port}"

    def org_of_domain(self, host: str) -> Org | None:
        with self.lock:
            return next((o for o in self.orgs.values() if o.my_domain == host.lower()), None)

    def orgs_on_host(self, host: str) -> list[Org]:
        """The orgs whose instance a request's ``Host`` names: the one org that has it as
        its own domain, else every org without a domain of its own. An org with its own
        domain is never served on another host."""
        name = _host_name(host)
        own = self.org_of_domain(name)
        if own is not None:
            return [own]
        with self.lock:
            return [o for o in self.orgs.values() if not o.my_domain]

    # ----- Persistence -----------------------------------------------------------

    def request_save(self) -> None:
        if self.data_file is not None:
            self._save_wanted.set()

    def start_saver(self) -> None:
        if self.data_file is None or self._saver is not None:
            return
        self._saver = threading.Thread(target=self._save_loop, name="emulator-saver", daemon=True)
        self._saver.start()

    def _save_loop(self) -> None:
        # Saving off the request thread keeps writes fast and avoids holding two orgs'
        # locks at once; a change reaches the file within a few milliseconds.
        while not self._stopping:
            if self._save_wanted.wait(0.5):
                self._save_wanted.clear()
                self.save()

    def stop_saver(self) -> None:
        self._stopping = True
        if self._saver is not None:
            self._save_wanted.set()
            self._saver.join(timeout=5)
        if self.data_file is not None:
            self.save()

    def save(self) -> None:
        if self.data_file is None:
            return
        with self.lock:
            orgs = list(self.orgs.values())
            state: dict[str, Any] = {
                "version": 1,
                "id_counter": self.id_factory.last,
                "sessions": [asdict(s) for s in self.sessions.values()],
                "refresh": [asdict(g) for g in self.refresh.values()],
                "apps": [asdict(a) for a in self.apps.values()],
            }
        state["orgs"] = []
        for org in orgs:
            with org.lock:
                state["orgs"].append(org.to_json())
        path = Path(self.data_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(state, handle)
        os.replace(tmp, path)

    def load(self) -> bool:
        if self.data_file is None or not Path(self.data_file).exists():
            return False
        state = json.loads(Path(self.data_file).read_text(encoding="utf-8"))
        self.id_factory = ids.IdFactory(int(state.get("id_counter", 0)) + 1)
        for data in state.get("orgs", []):
            org = Org(
                id=data["id"],
                name=data["name"],
                id_factory=self.id_factory,
                shared_activities=data.get("shared_activities", True),
                admin_user_id=data["admin_user_id"],
                my_domain=data.get("my_domain", ""),
                api_max=data.get("api_max", 100_000),
                api_calls=data.get("api_calls", 0),
                query_batch_size=data.get("query_batch_size", 2000),
            )
            org.load_json(data)
            org.on_change = self.request_save
            self.orgs[org.id] = org
        for item in state.get("sessions", []):
            self.sessions[item["token"]] = Session(**item)
        for item in state.get("refresh", []):
            self.refresh[item["token"]] = RefreshGrant(**item)
        for item in state.get("apps", []):
            self.apps[item["client_id"]] = ConnectedApp(**item)
        return True


# A DNS name (labels of letters, digits and inner hyphens), as a My Domain host is.
_HOST_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


def _host_name(host: str) -> str:
    """``Host`` without its port: ``[::1]:8765`` -> ``::1``, ``a.example:443`` -> ``a.example``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    return host.rsplit(":", 1)[0] if ":" in host else host


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() not in ("bearer", "oauth"):
        return None
    return token.strip() or None
