"""The one place that talks HTTP to Salesforce, and the only module that imports
simple-salesforce's client."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import requests
from django.conf import settings
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import SalesforceExpiredSession

from integrations.salesforce.errors import SalesforceError, error_from_body, error_from_exception

T = TypeVar("T")

__all__ = ["SalesforceClient", "format_soql", "salesforce_http_session", "salesforce_userinfo"]


def salesforce_http_session() -> requests.Session:
    """A session that trusts Salesforce's certificate: the system's trust store in
    production, or the CA file of the bundled emulator (SALESFORCE_CA_FILE)."""
    session = requests.Session()
    if settings.SALESFORCE_CA_FILE:
        session.verify = settings.SALESFORCE_CA_FILE
        # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE from the environment
        # override a session's `verify`; the configured bundle must win.
        session.trust_env = False
    return session


def salesforce_userinfo(*, instance_url: str, access_token: str) -> dict[str, Any]:
    """Who the token belongs to: `organization_id`, `user_id`, `email`, ..."""
    response = salesforce_http_session().get(
        f"{instance_url.rstrip('/')}/services/oauth2/userinfo",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=settings.SALESFORCE_HTTP_TIMEOUT,
    )
    response.raise_for_status()
    return json_object(response.json())


def json_object(answer: object) -> dict[str, Any]:
    """A JSON object Salesforce answered. simple-salesforce and requests type answers as
    Any (None for an empty body); an answer of another shape cannot be read, so whether
    a write it answers was applied is unknown (a retry settles that first)."""
    if isinstance(answer, dict):
        return answer
    raise _unreadable(answer, "an object")


def json_list(answer: object) -> list[dict[str, Any]]:
    """A JSON array of objects Salesforce answered (see `json_object`)."""
    if isinstance(answer, list):
        return answer
    raise _unreadable(answer, "a list")


def _unreadable(answer: object, expected: str) -> SalesforceError:
    return SalesforceError(
        "retry",
        "HTTP_ERROR",
        f"Salesforce answered {type(answer).__name__} where {expected} was expected.",
    )


class _TimeoutSession(requests.Session):
    """simple-salesforce passes no timeout; every request here gets the configured one,
    so a silent Salesforce never holds a worker past django-q2's task timeout."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", settings.SALESFORCE_HTTP_TIMEOUT)
        return super().request(method, url, *args, **kwargs)


def _session_with_timeout() -> requests.Session:
    base = salesforce_http_session()
    session = _TimeoutSession()
    session.verify = base.verify
    session.trust_env = base.trust_env
    return session


@dataclass
class ApiUsage:
    used: int = 0
    limit: int = 0


class SalesforceClient:
    """simple-salesforce for one tenant's connection.

    Counts every REST call it makes (one HTTP request to /services/data is one API call;
    a Composite or Collection request is one call however many records it carries) and
    keeps the org's daily usage from `Sforce-Limit-Info`. On INVALID_SESSION_ID it
    refreshes the access token once per failure through `refresh`, which stores the new
    token; when that fails the error is re-raised as `reauth`.
    """

    def __init__(
        self,
        *,
        instance_url: str,
        access_token: str,
        api_version: str,
        refresh: Callable[[], str] | None = None,
        on_call: Callable[[], None] | None = None,
    ) -> None:
        self.instance_url = instance_url.rstrip("/")
        # Called after every API call (the sync extends its jobs' lease there).
        self._on_call = on_call
        self.api_version = api_version
        self.api_calls = 0
        self.usage = ApiUsage()
        self._refresh = refresh
        self._session = _session_with_timeout()
        self._session.hooks["response"].append(self._count)
        self._sf = self._build(access_token)

    def _build(self, access_token: str) -> Salesforce:
        return Salesforce(
            instance_url=self.instance_url,
            session_id=access_token,
            version=self.api_version,
            session=self._session,
        )

    def _count(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if "/services/data/" in response.url:
            self.api_calls += 1
            info = response.headers.get("Sforce-Limit-Info", "")
            match = re.search(r"api-usage=(\d+)/(\d+)", info)
            if match:
                self.usage = ApiUsage(int(match.group(1)), int(match.group(2)))
            if self._on_call is not None:
                self._on_call()

    def _call(self, fn: Callable[[Salesforce], T]) -> T:
        try:
            return fn(self._sf)
        except SalesforceExpiredSession as exc:
            if self._refresh is None:
                raise error_from_exception(exc) from exc
            # One refresh per failure: if the fresh token is refused as well, the
            # second error goes up to the caller.
            self._sf = self._build(self._refresh())
            try:
                return fn(self._sf)
            except SalesforceError:
                raise
            except SalesforceExpiredSession as again:
                # The refresh itself worked (a refused one raised above as `reauth`):
                # the new session ended too, as sessions sometimes end at any moment.
                # Nothing for a person to do: the job retries later, refreshing again.
                raise replace(error_from_exception(again), kind="retry") from again
            except Exception as again:
                raise error_from_exception(again) from again
        except SalesforceError:
            raise
        except Exception as exc:
            raise error_from_exception(exc) from exc

    @property
    def base_path(self) -> str:
        return f"/services/data/v{self.api_version}"

    def query_all(self, soql: str) -> list[dict[str, Any]]:
        return json_list(self._call(lambda sf: sf.query_all(soql))["records"])

    def query_more(self, next_records_url: str) -> dict[str, Any]:
        return json_object(
            self._call(lambda sf: sf.query_more(next_records_url, identifier_is_url=True))
        )

    def composite(
        self, subrequests: list[dict[str, Any]], *, all_or_none: bool, raise_errors: bool = True
    ) -> list[dict[str, Any]]:
        """POST /composite; returns each subrequest's {body, httpStatusCode, referenceId}.
        With allOrNone and `raise_errors`, a failed subrequest raises its own error
        (not the PROCESSING_HALTED the others carry)."""
        body = {"allOrNone": all_or_none, "compositeRequest": subrequests}
        answer = json_object(
            self._call(lambda sf: sf.restful("composite", method="POST", json=body))
        )
        results = json_list(answer["compositeResponse"])
        if all_or_none and raise_errors:
            failures = [r for r in results if r["httpStatusCode"] >= 300]
            real = [r for r in failures if not composite_halted(r)]
            if failures:
                first = (real or failures)[0]
                raise error_from_body(first["body"], first["httpStatusCode"])
        return results

    def limits(self) -> dict[str, Any]:
        """GET /limits: the org's limits, e.g. DailyApiRequests {Max, Remaining}."""
        return json_object(self._call(lambda sf: sf.restful("limits")))

    def collection(
        self, method: str, records: list[dict[str, Any]], *, all_or_none: bool
    ) -> list[dict[str, Any]]:
        """sObject Collections create (POST) or update (PATCH), up to 200 records."""
        body = {"allOrNone": all_or_none, "records": records}
        return json_list(
            self._call(lambda sf: sf.restful("composite/sobjects", method=method, json=body))
        )

    def note_content(self, record_id: str) -> bytes:
        """A ContentNote's content (its file), as Salesforce serves it from the note's
        Content URL; simple-salesforce has no helper for binary bodies, so its request
        method is used directly (it adds the session's headers and raises typed errors)."""
        url = f"{self._sf.base_url}sobjects/ContentNote/{record_id}/Content"
        return self._call(lambda sf: sf._call_salesforce("GET", url).content)

    def collection_delete(self, ids: list[str], *, all_or_none: bool) -> list[dict[str, Any]]:
        params = {"ids": ",".join(ids), "allOrNone": str(all_or_none).lower()}
        return json_list(
            self._call(lambda sf: sf.restful("composite/sobjects", method="DELETE", params=params))
        )


def composite_halted(result: dict[str, Any]) -> bool:
    """A subrequest that did not run because another one of an allOrNone request failed."""
    body = result.get("body")
    return bool(isinstance(body, list) and body and body[0].get("errorCode") == "PROCESSING_HALTED")
