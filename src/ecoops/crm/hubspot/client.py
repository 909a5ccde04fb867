"""Talking to HubSpot through the official client, `hubspot-api-client`, with the API's rules respected.

- 429 (the per-10-second or daily limit) waits the answer's `Retry-After`, else the 10-second window;
  500, 502, 503, 504 and connection errors are tried again after 1, 2, 4… s; each at most
  `crm_max_wait_seconds`, `crm_max_attempts` times in all, then the sync stops (checkpoints kept);
- when an answer's `X-HubSpot-RateLimit-Remaining` says the 10-second window is spent, the next request
  waits the window (`X-HubSpot-RateLimit-Interval-Milliseconds`) rather than earn a 429;
- 401 with an OAuth connection: a new access token by the refresh token, then the request again;
- `X-HubSpot-RateLimit-Daily` / `-Daily-Remaining` are kept for the connection page.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

import requests
import urllib3
from hubspot import HubSpot
from urllib3.util.retry import Retry

from ecoops.config import Settings

T = TypeVar("T")
SCOPES = "crm.objects.companies.read crm.objects.deals.read crm.objects.owners.read"
WRITE_SCOPES = "crm.objects.companies.write crm.objects.deals.write"  # write-back's, asked as optional
OPTIONAL_SCOPES = "crm.objects.contacts.read"  # without it the sync reads no contacts (and says so)
RETRIED_STATUS = frozenset({429, 500, 502, 503, 504})
# Every client module we call raises its own generated ApiException; one tuple catches them all.
_MODULES = (
    "crm.companies",
    "crm.contacts",
    "crm.deals",
    "crm.pipelines",
    "crm.owners",
    "crm.properties",
    "crm.associations.v4",
    "oauth",
)
API_ERRORS: tuple[type[Exception], ...] = tuple(
    importlib.import_module(f"hubspot.{m}.exceptions").ApiException for m in _MODULES
)


class HubSpotAuthError(Exception):
    """HubSpot refused a token or the token's details: the message is HubSpot's."""


class HubSpotUnavailable(Exception):
    """The API kept refusing (limits, errors) after every attempt allowed: the sync stops here."""


class HttpStatus(Exception):
    """A non-2xx answer to a request made with the client's `api_request` (it does not raise itself)."""

    def __init__(self, status: int, headers: dict[str, str], body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status, self.headers, self.body = status, headers, body


@dataclass(frozen=True)
class Credentials:
    """A private app's token, or an OAuth app's id and secret with a refresh token."""

    flow: str  # private_app | oauth
    access_token: str = ""  # the private app's
    client_id: str = ""
    client_secret: str = ""
    refresh_token: str = ""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True)
class Portal:
    """What the token says about itself and the account it reaches."""

    hub_id: str
    scopes: str
    currency: str  # the account's company currency


def authorize_url(settings: Settings, client_id: str, redirect_uri: str, state: str) -> str:
    """Where the admin's browser goes to install the OAuth app (the authorization-code flow's first step)."""
    query = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": SCOPES,
        "optional_scope": f"{OPTIONAL_SCOPES} {WRITE_SCOPES}",
        "state": state,
    }
    return f"{settings.hubspot_app_url.rstrip('/')}/oauth/authorize?{urlencode(query)}"


def _client(settings: Settings, access_token: str = "") -> HubSpot:
    api_url = settings.hubspot_api_url.rstrip("/")
    # urllib3 would itself retry a 429 or 503 that carries Retry-After, however long it says: no retries
    # there, so every wait goes through HubSpotApi's rules and cap.
    config: dict[str, Any] = {
        "host": api_url,
        "base_url": api_url,
        "retry": Retry(0, respect_retry_after_header=False, raise_on_status=False),
    }
    if settings.crm_ca_bundle:
        config["ssl_ca_cert"] = settings.crm_ca_bundle
    return HubSpot(access_token=access_token or None, **config)


def _token(settings: Settings, **form: str) -> Tokens:
    try:
        answer = _client(settings).oauth.tokens_api.create(
            **form, _request_timeout=settings.crm_timeout_seconds
        )
    except API_ERRORS as exc:
        raise HubSpotAuthError(f"HubSpot refused the token request: {_body(exc)}") from exc
    except urllib3.exceptions.HTTPError as exc:
        raise HubSpotAuthError(f"cannot reach HubSpot at {settings.hubspot_api_url}: {exc}") from exc
    return Tokens(answer.access_token, answer.refresh_token or "", int(answer.expires_in or 0))


def exchange_code(settings: Settings, credentials: Credentials, code: str, redirect_uri: str) -> Tokens:
    """The authorization code for an access token and a refresh token."""
    return _token(
        settings,
        grant_type="authorization_code",
        code=code,
        redirect_uri=redirect_uri,
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
    )


def refresh(settings: Settings, credentials: Credentials) -> Tokens:
    return _token(
        settings,
        grant_type="refresh_token",
        refresh_token=credentials.refresh_token,
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
    )


def _body(exc: Exception) -> str:
    return str(getattr(exc, "body", "") or exc)[:500]


def _retry_after(headers: Any) -> float | None:
    value = (headers or {}).get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None


def _int(headers: Any, name: str) -> int | None:
    try:
        return int((headers or {}).get(name, ""))
    except (TypeError, ValueError):
        return None


class HubSpotApi:
    """The CRM API for one connection, through hubspot-api-client, with retries, pacing and refresh."""

    def __init__(
        self,
        settings: Settings,
        credentials: Credentials,
        *,
        on_tokens: Callable[[Tokens], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings, self.credentials, self.on_tokens = settings, credentials, on_tokens
        self.sleep, self.clock = sleep, clock
        self.daily: tuple[int, int] | None = None  # (used, max) from the daily limit headers
        self.waits: list[float] = []  # every wait, for the run's log and the tests
        self._access = credentials.access_token
        self._client: HubSpot | None = None
        self._apis: dict[str, Any] = {}
        self._window_spent_at: float | None = None  # when an answer said the 10-second window is spent
        self._window = 10.0

    @property
    def client(self) -> HubSpot:
        if self._client is None:
            if self.credentials.flow == "oauth" and not self._access:
                self._refresh()
            self._client = _client(self.settings, self._access)
        return self._client

    def _refresh(self) -> None:
        tokens = refresh(self.settings, self.credentials)
        self._access = tokens.access_token
        self._client, self._apis = None, {}
        if self.on_tokens is not None:
            self.on_tokens(tokens)

    def api(self, path: str) -> Any:
        """One of the client's API objects, e.g. `crm.deals.search_api` (kept: each makes its own pool)."""
        if path not in self._apis:
            target: Any = self.client
            for part in path.split("."):
                target = getattr(target, part)
            self._apis[path] = target
        return self._apis[path]

    def call(self, path: str, method: str, **arguments: Any) -> Any:
        """`method` of the API object at `path`, tried again as the module says."""

        def request() -> tuple[Any, Any]:
            api = self.api(path)
            result = getattr(api, method)(**arguments, _request_timeout=self.settings.crm_timeout_seconds)
            return result, api.api_client.last_response.getheaders()

        return self._attempts(request)

    def call_json(self, path: str, method: str, **arguments: Any) -> Any:
        """As `call`, but the answer's JSON as it came (dicts and strings), without the client's models:
        their deserialising (each date parsed by dateutil) costs more than the request itself."""

        def request() -> tuple[Any, Any]:
            answer = getattr(self.api(path), method)(
                **arguments, _request_timeout=self.settings.crm_timeout_seconds, _preload_content=False
            )
            try:
                return json.loads(answer.data or b"null"), answer.headers
            finally:
                answer.release_conn()

        return self._attempts(request)

    def get(self, url_path: str) -> Any:
        """A GET the client has no API object for (account info, a private app's token details), through
        its generic `api_request`; the JSON answer."""

        def request() -> tuple[Any, Any]:
            answer: requests.Response = self.client.api_request(
                {"method": "GET", "path": url_path, "base_url": self.settings.hubspot_api_url.rstrip("/")}
            )
            if answer.status_code >= 300:
                raise HttpStatus(answer.status_code, dict(answer.headers), answer.text)
            return answer.json(), answer.headers

        return self._attempts(request)

    def post(self, url_path: str, body: dict[str, Any]) -> Any:
        def request() -> tuple[Any, Any]:
            answer: requests.Response = self.client.api_request(
                {
                    "method": "POST",
                    "path": url_path,
                    "body": body,
                    "base_url": self.settings.hubspot_api_url.rstrip("/"),
                }
            )
            if answer.status_code >= 300:
                raise HttpStatus(answer.status_code, dict(answer.headers), answer.text)
            return answer.json(), answer.headers

        return self._attempts(request)

    def _attempts(self, request: Callable[[], tuple[T, Any]]) -> T:
        attempts = self.settings.crm_max_attempts
        last: Exception | None = None
        for attempt in range(attempts):
            self._pace()
            try:
                result, headers = request()
            except (*API_ERRORS, HttpStatus) as exc:  # type: ignore[misc]
                status = int(getattr(exc, "status", 0) or 0)
                headers = getattr(exc, "headers", None)
                self._note(headers)
                last = exc
                if status == 401 and self.credentials.flow == "oauth" and attempt + 1 < attempts:
                    self._refresh()  # the access token expired (they last 30 minutes)
                    continue
                if status not in RETRIED_STATUS:
                    raise
                told = _retry_after(headers)
                if status == 429 and told is None:
                    told = self._window
                self._wait(attempt, told)
                continue
            except (urllib3.exceptions.HTTPError, requests.RequestException) as exc:
                last = exc
                self._wait(attempt, None)
                continue
            self._note(headers)
            return result
        raise HubSpotUnavailable(f"HubSpot kept failing after {attempts} attempts: {_brief(last)}")

    def _wait(self, attempt: int, told: float | None) -> None:
        seconds = told if told is not None else min(2.0**attempt, 60.0)
        seconds = min(seconds, self.settings.crm_max_wait_seconds)
        self.waits.append(seconds)
        self.sleep(seconds)

    def _note(self, headers: Any) -> None:
        daily, left = (
            _int(headers, "X-HubSpot-RateLimit-Daily"),
            _int(headers, "X-HubSpot-RateLimit-Daily-Remaining"),
        )
        if daily is not None and left is not None:
            self.daily = (daily - left, daily)
        interval = _int(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
        if interval:
            self._window = interval / 1000
        remaining = _int(headers, "X-HubSpot-RateLimit-Remaining")
        if remaining is not None and remaining <= 0:
            self._window_spent_at = self.clock()

    def _pace(self) -> None:
        """Wait out a spent 10-second window instead of earning a 429."""
        if self._window_spent_at is None:
            return
        left = self._window - (self.clock() - self._window_spent_at)
        self._window_spent_at = None
        if left > 0:
            seconds = min(left, self.settings.crm_max_wait_seconds)
            self.waits.append(seconds)
            self.sleep(seconds)

    def portal(self) -> Portal:
        """The hub id, the token's scopes and the account's currency."""
        details = self.get("/account-info/v3/details")
        if self.credentials.flow == "oauth":
            info = self.call("oauth.access_tokens_api", "get", token=self._access_token())
            scopes = " ".join(info.scopes or [])
        else:
            info_json = self.post("/oauth/v2/private-apps/get/access-token-info", {"tokenKey": self._access})
            scopes = " ".join(info_json.get("scopes", []))
        return Portal(str(details.get("portalId", "")), scopes, str(details.get("companyCurrency", "")))

    def _access_token(self) -> str:
        self.client  # noqa: B018 - makes sure an OAuth connection has its access token
        return self._access


def _brief(exc: Exception | None) -> str:
    if exc is None:
        return ""
    status = getattr(exc, "status", None)
    return f"HTTP {status} {_body(exc)[:300]}" if status else str(exc)[:300]
