"""Talking to Salesforce: the OAuth token endpoint (authorization code, refresh token, JWT bearer) and the
REST API through the official client, simple-salesforce, with the API's rules respected.

- 429 and 5xx answers (and connection errors) are tried again, after the `Retry-After` the answer
  gives (at most `crm_max_wait_seconds`) or an exponential backoff, `crm_max_attempts` times in all;
- `REQUEST_LIMIT_EXCEEDED` (the org's 24-hour API allowance, or too many long requests at once) is
  waited out only when the answer says how long; otherwise the sync stops, keeping its checkpoints;
- `INVALID_SESSION_ID` (401: the access token expired or was revoked) gets a new token (refresh
  token or a new JWT assertion) and the request again;
- every answer's `Sforce-Limit-Info` header updates the API usage the connection page shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode, urlparse

import jwt
import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)

from ecoops.config import Settings

T = TypeVar("T")
RETRIED_STATUS = frozenset({429, 500, 502, 503, 504})
DEFAULT_SCOPES = "api refresh_token"


class SalesforceAuthError(Exception):
    """The token endpoint refused: the message is Salesforce's error and description."""


class SalesforceUnavailable(Exception):
    """The API kept refusing (limits, errors) after every attempt allowed: the sync stops here."""


class SalesforceJobFailed(Exception):
    """A Bulk API 2.0 job failed, was aborted, or answered what was not asked: the sync stops here."""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    instance_url: str
    refresh_token: str  # empty for JWT bearer, and when a refresh does not rotate it
    scopes: str
    org_id: str


@dataclass(frozen=True)
class Credentials:
    """What gets an access token: a refresh token (web-server flow) or a private key (JWT bearer)."""

    login_url: str
    client_id: str
    client_secret: str = ""
    refresh_token: str = ""
    username: str = ""
    private_key: str = ""


class _Session(requests.Session):
    """A session whose own CA bundle wins over REQUESTS_CA_BUNDLE (requests lets the environment win),
    and whose requests time out after `timeout` unless told otherwise (the Bulk API client sets none)."""

    timeout: float | None = None

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None and len(args) < 8:  # timeout is request()'s 9th parameter
            kwargs["timeout"] = self.timeout
        return super().request(method, url, *args, **kwargs)

    def merge_environment_settings(
        self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if isinstance(self.verify, str) and verify in (None, True):
            merged["verify"] = self.verify
        return merged


def http_session(settings: Settings) -> requests.Session:
    session = _Session()
    session.timeout = settings.crm_timeout_seconds
    if settings.crm_ca_bundle:
        session.verify = settings.crm_ca_bundle
    return session


def authorize_url(login_url: str, client_id: str, redirect_uri: str, state: str) -> str:
    """Where the admin's browser goes to allow the connected app (the web-server flow's first step)."""
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "scope": DEFAULT_SCOPES,
        "prompt": "login consent",
    }
    return f"{login_url.rstrip('/')}/services/oauth2/authorize?{urlencode(query)}"


def _org_id(identity_url: str) -> str:
    """The org id from the token answer's identity URL, `…/id/<org id>/<user id>`."""
    parts = urlparse(identity_url).path.strip("/").split("/")
    return parts[1] if len(parts) >= 3 and parts[0] == "id" else ""


def _token(http: requests.Session, login_url: str, form: dict[str, str], timeout: float) -> Tokens:
    url = f"{login_url.rstrip('/')}/services/oauth2/token"
    try:
        answer = http.post(url, data=form, timeout=timeout)
    except requests.RequestException as exc:
        raise SalesforceAuthError(f"cannot reach {url}: {exc}") from exc
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if answer.status_code != 200 or "access_token" not in body:
        error = body.get("error", f"HTTP {answer.status_code}")
        raise SalesforceAuthError(
            f"Salesforce refused the token request: {error}: {body.get('error_description', '')}"
        )
    return Tokens(
        access_token=body["access_token"],
        instance_url=body["instance_url"],
        refresh_token=body.get("refresh_token", ""),
        scopes=body.get("scope", ""),
        org_id=_org_id(body.get("id", "")),
    )


def exchange_code(
    http: requests.Session, credentials: Credentials, code: str, redirect_uri: str, timeout: float
) -> Tokens:
    """The web-server flow's second step: the authorization code for an access and a refresh token."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
        "redirect_uri": redirect_uri,
    }
    return _token(http, credentials.login_url, form, timeout)


def jwt_assertion(credentials: Credentials, now: datetime) -> str:
    """The JWT bearer flow's assertion: issued by the connected app for the user, to the login URL."""
    claims = {
        "iss": credentials.client_id,
        "sub": credentials.username,
        "aud": credentials.login_url.rstrip("/"),
        "exp": int((now + timedelta(minutes=3)).timestamp()),
    }
    return jwt.encode(claims, credentials.private_key, algorithm="RS256")


def new_tokens(http: requests.Session, credentials: Credentials, timeout: float) -> Tokens:
    """A fresh access token: by the refresh token, else by a new JWT assertion."""
    if credentials.refresh_token:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": credentials.refresh_token,
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
        }
    else:
        form = {
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": jwt_assertion(credentials, datetime.now(UTC)),
        }
    return _token(http, credentials.login_url, form, timeout)


def _retry_after(response: requests.Response | None) -> float | None:
    value = response.headers.get("Retry-After", "") if response is not None else ""
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class SalesforceApi:
    """The REST API for one connection, through simple-salesforce, with retries and token refresh."""

    def __init__(
        self,
        settings: Settings,
        credentials: Credentials,
        *,
        on_tokens: Callable[[Tokens], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        http: requests.Session | None = None,
    ) -> None:
        self.settings = settings
        self.credentials = credentials
        self.on_tokens = on_tokens
        self.sleep = sleep
        self.http = http or http_session(settings)
        self.last_response: requests.Response | None = None
        self.http.hooks["response"].append(self._remember)
        self.api_usage: tuple[int, int] | None = None  # (used, max) from Sforce-Limit-Info
        self.waits: list[float] = []  # every wait, for the run's log and the tests
        self._client: Salesforce | None = None

    def _remember(self, response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        self.last_response = response

    def _connect(self) -> Salesforce:
        tokens = new_tokens(self.http, self.credentials, self.settings.crm_timeout_seconds)
        if self.on_tokens is not None:
            self.on_tokens(tokens)
        self._client = Salesforce(
            instance_url=tokens.instance_url,
            session_id=tokens.access_token,
            version=self.settings.salesforce_api_version,
            session=self.http,
            object_pairs_hook=dict,
            parse_float=str,  # amounts as Salesforce wrote them, read by the import's own rules
        )
        return self._client

    @property
    def client(self) -> Salesforce:
        return self._client or self._connect()

    def _wait(self, attempt: int, told: float | None) -> None:
        seconds = told if told is not None else min(2.0**attempt, 60.0)
        seconds = min(seconds, self.settings.crm_max_wait_seconds)
        self.waits.append(seconds)
        self.sleep(seconds)

    def call(self, request: Callable[[Salesforce], T]) -> T:
        """Run `request` against the API, tried again as the module says."""
        attempts = self.settings.crm_max_attempts
        last: Exception | None = None
        for attempt in range(attempts):
            try:
                result = request(self.client)
            except SalesforceExpiredSession as exc:  # 401 INVALID_SESSION_ID: a new token, then again
                last = exc
                self._connect()
                continue
            except SalesforceRefusedRequest as exc:
                if "REQUEST_LIMIT_EXCEEDED" not in str(exc.content):
                    raise
                told = _retry_after(self.last_response)
                if told is None or told > self.settings.crm_max_wait_seconds:
                    raise SalesforceUnavailable(
                        "Salesforce's API request limit is exceeded (REQUEST_LIMIT_EXCEEDED): the sync "
                        "stopped and resumes from its checkpoints at the next run"
                    ) from exc
                last = exc
                self._wait(attempt, told)
                continue
            except SalesforceGeneralError as exc:
                if exc.status not in RETRIED_STATUS:
                    raise
                last = exc
                self._wait(attempt, _retry_after(self.last_response))
                continue
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = exc
                self._wait(attempt, None)
                continue
            self._note_usage()
            return result
        raise SalesforceUnavailable(f"Salesforce kept failing after {attempts} attempts: {_brief(last)}")

    def _note_usage(self) -> None:
        usage = self.client.api_usage.get("api-usage")
        if usage is not None:
            self.api_usage = (usage.used, usage.total)


def _brief(exc: Exception | None) -> str:
    if isinstance(exc, SalesforceError):
        return f"HTTP {exc.status} {str(exc.content)[:300]}"
    return str(exc)[:300]
