"""Where a tenant's org signs in: production, a sandbox, or the org's own My Domain.

The login address receives the admin's browser and, later, the Connected App's secret
and the tenant's refresh token, so only Salesforce's own hosts are accepted (plus the
login addresses the operator configured, which is how the bundled emulator is reached
in development and tests)."""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from urllib.parse import urlsplit

from django.conf import settings

from core.errors import InvalidInput


class LoginChoice(StrEnum):
    PRODUCTION = "production"
    SANDBOX = "sandbox"
    CUSTOM = "custom"


# Salesforce's own domains; My Domain hosts (acme.my.salesforce.com,
# acme--uat.sandbox.my.salesforce.com) are names under the first.
SALESFORCE_DOMAINS = ("salesforce.com", "force.com")

# A DNS name in ASCII: labels of letters, digits and inner hyphens (so no IP address in
# brackets, no percent-escapes, no trailing dot, no Unicode look-alikes).
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_RE = re.compile(rf"^{_LABEL}(?:\.{_LABEL})+$")

CUSTOM_URL_HELP = (
    "Your org's My Domain login address, such as https://acme.my.salesforce.com "
    "or https://acme--uat.sandbox.my.salesforce.com."
)


def _origin(url: str) -> str:
    """`scheme://host[:port]` of a configured URL, lower-cased."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower()


def configured_login_origins() -> set[str]:
    """The login addresses the operator configured: always allowed as they are."""
    return {
        _origin(url)
        for url in (settings.SALESFORCE_LOGIN_URL, settings.SALESFORCE_SANDBOX_LOGIN_URL)
        if url
    }


def _is_salesforce_host(host: str) -> bool:
    return any(host.endswith("." + domain) for domain in SALESFORCE_DOMAINS)


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def login_url_clean(url: str) -> str:
    """The login address `url` names, as `https://host`; InvalidInput (on the field
    `custom_url`) for anything that is not plainly a Salesforce login host.

    1. A configured login address (SALESFORCE_LOGIN_URL or _SANDBOX_LOGIN_URL) is
       accepted as it is, port included.
    2. Otherwise it must be `https://` and a bare host: no user or password before an
       `@` (https://evil.example@login.salesforce.com goes to evil.example), no port,
       no path beyond `/`, no query or fragment, no IP address.
    3. The host must be a name under salesforce.com or force.com.
    """
    text = url.strip()
    if not text:
        raise InvalidInput("Enter your org's My Domain login address.", field="custom_url")
    if any(c.isspace() or c == "\\" or not c.isprintable() for c in text):
        raise InvalidInput("A login address holds no spaces or backslashes.", field="custom_url")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidInput(
            f"That is not a web address. {CUSTOM_URL_HELP}", field="custom_url"
        ) from None
    if not parts.path.strip("/") and not parts.query and not parts.fragment:
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        if "@" not in parts.netloc and origin in configured_login_origins():
            return origin
    if parts.scheme.lower() != "https":
        raise InvalidInput(
            "The login address must start with https:// (Salesforce signs in over HTTPS only).",
            field="custom_url",
        )
    if "@" in parts.netloc:
        raise InvalidInput(
            "The login address must not hold a user name or password (nothing before an @).",
            field="custom_url",
        )
    if port is not None or parts.netloc.endswith(":"):
        raise InvalidInput("The login address must not name a port.", field="custom_url")
    if parts.path.strip("/") or parts.query or parts.fragment or "?" in text or "#" in text:
        raise InvalidInput(
            "Enter the address without a path, such as https://acme.my.salesforce.com.",
            field="custom_url",
        )
    host = (parts.hostname or "").lower()
    if not host or _is_ip_address(host.strip("[]")) or not _HOST_RE.match(host):
        raise InvalidInput(
            f"That is not a Salesforce host name. {CUSTOM_URL_HELP}", field="custom_url"
        )
    if not _is_salesforce_host(host):
        raise InvalidInput(
            f"{host} is not a Salesforce address: only hosts under salesforce.com or "
            f"force.com are accepted. {CUSTOM_URL_HELP}",
            field="custom_url",
        )
    return f"https://{host}"


def login_url_for(*, choice: LoginChoice, custom_url: str = "") -> str:
    """What a connection stores for the admin's choice: "" for production (the
    configured SALESFORCE_LOGIN_URL, as connections made before the choice existed),
    the sandbox login address, or the checked custom one."""
    if choice == LoginChoice.PRODUCTION:
        return ""
    if choice == LoginChoice.SANDBOX:
        return _origin(settings.SALESFORCE_SANDBOX_LOGIN_URL)
    return login_url_clean(custom_url)


def login_choice_of(login_url: str) -> tuple[LoginChoice, str]:
    """The choice (and custom address) a stored login address came from, to offer it
    again on reconnecting."""
    if not login_url:
        return LoginChoice.PRODUCTION, ""
    if login_url == _origin(settings.SALESFORCE_SANDBOX_LOGIN_URL):
        return LoginChoice.SANDBOX, ""
    return LoginChoice.CUSTOM, login_url


def login_base_url(login_url: str) -> str:
    """The address OAuth requests go to for a stored login address."""
    return (login_url or settings.SALESFORCE_LOGIN_URL).rstrip("/")


def login_host_label(login_url: str) -> str:
    """The login host in words for the settings page."""
    choice, _ = login_choice_of(login_url)
    host = urlsplit(login_base_url(login_url)).netloc
    if choice == LoginChoice.PRODUCTION:
        return f"Production ({host})"
    if choice == LoginChoice.SANDBOX:
        return f"Sandbox ({host})"
    return f"My Domain ({host})"
