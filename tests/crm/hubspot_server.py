"""A local HubSpot: the CRM v3 endpoints and OAuth endpoints the sync calls, after HubSpot's public API
reference, answered as HubSpot does (shapes the real `hubspot-api-client` deserialises and checks).

- `POST /oauth/v1/token` (`authorization_code`, `refresh_token`), `GET /oauth/authorize` (answers at once
  with a redirect carrying a code), `GET /oauth/v1/access-tokens/<token>`,
  `POST /oauth/v2/private-apps/get/access-token-info`, `GET /account-info/v3/details`;
- `GET /crm/v3/owners/`, `GET /crm/v3/pipelines/deals`, `GET /crm/v3/properties/<object>`;
- `GET /crm/v3/properties/<object>` gives each property's type (`TYPES`; `add_property` adds a custom
  one, `remove_property` takes one away);
- `POST /crm/v3/objects/<object>/search` (companies, deals, contacts: a `GTE` filter on
  `hs_lastmodifieddate` — contacts' `lastmodifieddate` —, sorted by it ascending or descending,
  `limit` and `after`, at most `search_cap` results per query: past it HubSpot answers 400), the list
  `GET /crm/v3/objects/<object>?archived=true`, `POST /crm/v3/objects/deals/batch/read` with
  `propertiesWithHistory` (207 with an error for an id that is not there),
  `POST /crm/v4/associations/{deals,contacts}/companies/batch/read`;
- `POST /crm/v3/objects/<object>/batch/update` (write-back): at most 100 inputs; 200 when every record
  was updated, 207 naming in `context.ids` each record it could not (archived or not there); 400
  `VALIDATION_ERROR` for the whole batch when a value is refused (a property the portal lacks, a
  read-only or calculated one, a record `reject`ed as a validation rule would); each update moves the
  record's `hs_lastmodifieddate`. `update_calls` counts the records of each call;
- the rate-limit headers on every API answer (`X-HubSpot-RateLimit-Daily`, `-Daily-Remaining`,
  `-Interval-Milliseconds`, `-Max`, `-Remaining`), and a 429 `TEN_SECONDLY_ROLLING` past `window_max`
  requests within `window_ms`.

Faults: `fail_next(status, body, retry_after)`; `reject(record id, message)`; `expire_tokens()` (401
for every access token issued); `on_page` is called before each search page and `on_update` before
each batch update (a test archives a record there); `remove_property`, `add_property` (a type, a
read-only or calculated one); `delay` before each answer.
Plain HTTP: the client's host is configurable (`ECOOPS_HUBSPOT_API_URL`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from tests.pg_server import free_port

HUB_ID = 4455667
SCOPES = [
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.objects.owners.read",
    "crm.objects.contacts.read",
    "oauth",
]
PROPERTIES: dict[str, list[str]] = {
    "companies": [
        "name",
        "domain",
        "website",
        "country",
        "industry",
        "type",
        "hubspot_owner_id",
        "hs_parent_company_id",
        "numberofemployees",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
    ],
    "deals": [
        "dealname",
        "dealstage",
        "pipeline",
        "amount",
        "deal_currency_code",
        "amount_in_home_currency",
        "createdate",
        "closedate",
        "hubspot_owner_id",
        "dealtype",
        "hs_analytics_source",
        "hs_is_closed",
        "hs_is_closed_won",
        "partner",
        "hs_lastmodifieddate",
        "hs_object_id",
    ],
    "contacts": [
        "firstname",
        "lastname",
        "email",
        "jobtitle",
        "phone",
        "createdate",
        "lastmodifieddate",
        "hs_object_id",
    ],
}
# Each property's type as HubSpot's properties API gives it (any other: string).
TYPES = {
    **dict.fromkeys(
        ("numberofemployees", "amount", "amount_in_home_currency", "hs_parent_company_id", "hs_object_id"),
        "number",
    ),
    **dict.fromkeys(("createdate", "closedate", "hs_lastmodifieddate", "lastmodifieddate"), "datetime"),
    **dict.fromkeys(
        ("hubspot_owner_id", "dealstage", "pipeline", "industry", "type", "dealtype", "deal_currency_code"),
        "enumeration",
    ),
    **dict.fromkeys(("hs_is_closed", "hs_is_closed_won"), "bool"),
}
# Each type's usual field type (how HubSpot shows it on a form).
FIELD_TYPES = {
    "string": "text",
    "number": "number",
    "datetime": "date",
    "enumeration": "select",
    "bool": "booleancheckbox",
}
# The property holding a record's last modification (contacts keep it without the hs_ prefix).
MODIFIED = {"contacts": "lastmodifieddate"}


def modified_property(object_name: str) -> str:
    return MODIFIED.get(object_name, "hs_lastmodifieddate")


# (pipeline id, label, [(stage id, label, isClosed, probability)])
PIPELINES = [
    (
        "default",
        "Sales Pipeline",
        [
            ("appointmentscheduled", "Appointment Scheduled", False, "0.2"),
            ("contractsent", "Contract Sent", False, "0.9"),
            ("closedwon", "Closed Won", True, "1.0"),
            ("closedlost", "Closed Lost", True, "0.0"),
        ],
    ),
    (
        "renewals",
        "Renewals",
        [("101", "Renewal Due", False, "0.5"), ("102", "Closed Won", True, "1.0")],
    ),
]


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Fault:
    status: int
    body: Any
    retry_after: str | None = None


@dataclass
class FakeHubSpot:
    """The portal's data and the server's knobs; `url` is where it listens once started."""

    client_id: str = "hs-client-id"
    client_secret: str = "hs-client-secret"
    private_token: str = "pat-na1-11111111-2222-3333-4444-555555555555"
    currency: str = "USD"
    daily_max: int = 250_000
    window_ms: int = 10_000
    window_max: int = 10_000  # requests per window before a 429
    search_cap: int = 10_000
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # object → id → record
    history: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # deal id → [(stage, when)]
    companies_of: dict[str, list[tuple[str, bool]]] = field(
        default_factory=dict
    )  # deal/contact → [(id, primary)]
    properties: dict[str, list[str]] = field(
        default_factory=lambda: {k: list(v) for k, v in PROPERTIES.items()}
    )
    property_types: dict[str, str] = field(default_factory=lambda: dict(TYPES))
    owners: list[dict[str, Any]] = field(default_factory=list)
    # (object, property) → how it differs from a plain text property: type, fieldType, readOnlyValue…
    property_specs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    rejects: dict[str, str] = field(default_factory=dict)  # record id → why an update of it is refused
    update_calls: list[int] = field(default_factory=list)  # records per batch update
    on_update: Callable[[list[str]], None] | None = None  # before a batch update: its ids (a test archives)
    faults: list[Fault] = field(default_factory=list)
    on_page: Callable[[int], None] | None = None
    delay: float = 0.0  # seconds before each API answer
    requests: list[str] = field(default_factory=list)  # "METHOD path" of every API request
    grants: list[str] = field(default_factory=list)
    rate_limited: int = 0  # 429s served for the 10-second window
    daily_used: int = 0
    window: list[float] = field(default_factory=list)  # times of the requests in the current window
    codes: dict[str, str] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    pages_served: int = 0
    clock: dt.datetime = field(default_factory=lambda: dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC))
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    _server: ThreadingHTTPServer | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))

    # -- data -------------------------------------------------------------------------------------

    def tick(self) -> str:
        self.clock += dt.timedelta(seconds=1)
        return iso(self.clock)

    def put(self, object_name: str, values: dict[str, Any], *, record_id: str = "") -> str:
        """Create or change a record (its last-modified property moves on); returns its id. Values as
        HubSpot keeps them: strings, or None for an unset property."""
        with self.lock:
            table = self.records.setdefault(object_name, {})
            record_id = record_id or str(next(self._ids))
            now = self.tick()
            record = table.get(record_id) or {
                "id": record_id,
                "createdAt": now,
                "archived": False,
                "properties": {"createdate": now, "hs_object_id": record_id},
            }
            record = dict(record, properties=dict(record["properties"]))
            changed = {k: (None if v is None else str(v)) for k, v in values.items()}
            if object_name == "deals" and changed.get("dealstage") not in (
                None,
                record["properties"].get("dealstage"),
            ):
                self.history.setdefault(record_id, []).append((str(changed["dealstage"]), now))
            record["properties"].update(changed)
            record["properties"][modified_property(object_name)] = now
            record["updatedAt"] = now
            table[record_id] = record
            return record_id

    def archive(self, object_name: str, record_id: str) -> None:
        with self.lock:
            now = self.tick()
            record = self.records[object_name][record_id]
            self.records[object_name][record_id] = dict(record, archived=True, archivedAt=now, updatedAt=now)

    def associate(self, record_id: str, company_id: str, *, primary: bool = True) -> None:
        """A deal's or a contact's company (ids are unique across objects here)."""
        self.companies_of.setdefault(record_id, []).append((company_id, primary))

    def remove_property(self, object_name: str, name: str) -> None:
        self.properties[object_name].remove(name)

    def add_property(
        self,
        object_name: str,
        name: str,
        *,
        type: str = "string",
        field_type: str = "",
        read_only: bool = False,
        calculated: bool = False,
    ) -> None:
        """A custom property (e.g. a company's `industry_segment`, or one write-back writes to): its
        field type is its type's usual one unless given; it may be read-only or calculated."""
        self.properties[object_name].append(name)
        self.property_types[name] = type
        self.property_specs[(object_name, name)] = {
            "fieldType": field_type or FIELD_TYPES.get(type, "text"),
            "calculated": calculated,
            "modificationMetadata": {
                "archivable": True,
                "readOnlyDefinition": False,
                "readOnlyValue": read_only,
            },
        }

    def reject(self, record_id: str, message: str) -> None:
        self.rejects[record_id] = message

    def fail_next(self, status: int, body: Any, *, retry_after: str | None = None, times: int = 1) -> None:
        self.faults.extend(Fault(status, body, retry_after) for _ in range(times))

    def expire_tokens(self) -> None:
        self.tokens.clear()

    # -- serving ----------------------------------------------------------------------------------

    def start(self) -> FakeHubSpot:
        port = free_port()
        server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, name="fake-hubspot", daemon=True).start()
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def issue(self) -> dict[str, Any]:
        token, refresh = uuid.uuid4().hex, uuid.uuid4().hex
        self.tokens.add(token)
        self.refresh_tokens.add(refresh)
        return {"access_token": token, "refresh_token": refresh, "expires_in": 1800, "token_type": "bearer"}

    def token(self, form: dict[str, str]) -> tuple[int, Any]:
        grant = form.get("grant_type", "")
        self.grants.append(grant)
        bad = {"status": "BAD_AUTH_CODE", "message": "missing or unknown auth code"}
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return 400, {"status": "BAD_CLIENT_ID", "message": "missing or unknown client id"}
        if grant == "authorization_code":
            if self.codes.pop(form.get("code", ""), None) != form.get("redirect_uri"):
                return 400, bad
            return 200, self.issue()
        if grant == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return 400, {"status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token"}
            return 200, self.issue()
        return 400, {"status": "BAD_GRANT_TYPE", "message": grant}

    def authorised(self, header: str) -> bool:
        token = header.removeprefix("Bearer ")
        return token in self.tokens or token == self.private_token

    def limit_headers(self) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Daily": str(self.daily_max),
            "X-HubSpot-RateLimit-Daily-Remaining": str(self.daily_max - self.daily_used),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(self.window_ms),
            "X-HubSpot-RateLimit-Max": str(self.window_max),
            "X-HubSpot-RateLimit-Remaining": str(max(0, self.window_max - len(self.window))),
        }

    def within_window(self) -> bool:
        """Count the request in the rolling window; False when the window is spent (a 429)."""
        now = time.monotonic()
        self.window = [t for t in self.window if now - t < self.window_ms / 1000]
        if len(self.window) >= self.window_max:
            return False
        self.window.append(now)
        self.daily_used += 1
        return True

    # -- the CRM ----------------------------------------------------------------------------------

    def shaped(self, record: dict[str, Any], asked: list[str], *, history: bool = False) -> dict[str, Any]:
        known = set(self.properties.get(self._type_of(record), []))
        defaults = ("createdate", "hs_lastmodifieddate", "lastmodifieddate", "hs_object_id")
        names = [n for n in dict.fromkeys([*asked, *defaults]) if n in known]
        out: dict[str, Any] = {
            "id": record["id"],
            "properties": {n: record["properties"].get(n) for n in names},
            "createdAt": record["createdAt"],
            "updatedAt": record["updatedAt"],
            "archived": record["archived"],
        }
        if record.get("archivedAt"):
            out["archivedAt"] = record["archivedAt"]
        if history:
            out["propertiesWithHistory"] = {
                "dealstage": [
                    {"value": stage, "timestamp": when, "sourceType": "CRM_UI", "sourceId": "userId:1"}
                    for stage, when in reversed(self.history.get(record["id"], []))  # newest first
                ]
            }
        return out

    def _type_of(self, record: dict[str, Any]) -> str:
        for name, table in self.records.items():
            if table.get(record["id"]) is record:
                return name
        return ""

    def search(self, object_name: str, body: dict[str, Any]) -> tuple[int, Any]:
        after, limit = int(body.get("after") or 0), min(int(body.get("limit") or 10), 200)
        if after + limit > self.search_cap:
            return 400, _error(400, "VALIDATION_ERROR", f"paging past {self.search_cap} results")
        floor, modified = "", modified_property(object_name)
        for group in body.get("filterGroups") or []:
            for f in group.get("filters") or []:
                if f.get("propertyName") != modified or f.get("operator") != "GTE":
                    return 400, _error(400, "VALIDATION_ERROR", f"filter not served here: {f}")
                moment = dt.datetime.fromtimestamp(int(f["value"]) / 1000, dt.UTC)
                floor = iso(moment)
        with self.lock:
            rows = [r for r in self.records.get(object_name, {}).values() if not r["archived"]]
        rows = [r for r in rows if r["properties"][modified] >= floor]
        descending = any(
            s.get("propertyName") == modified and s.get("direction") == "DESCENDING"
            for s in body.get("sorts") or []
        )
        rows.sort(key=lambda r: (r["properties"][modified], int(r["id"])), reverse=descending)
        page = rows[after : after + limit]
        answer: dict[str, Any] = {
            "total": len(rows),
            "results": [self.shaped(r, body.get("properties") or []) for r in page],
        }
        if after + limit < len(rows):
            answer["paging"] = {"next": {"after": str(after + limit)}}
        return 200, answer

    def archived(self, object_name: str, query: dict[str, str]) -> tuple[int, Any]:
        after, limit = int(query.get("after") or 0), min(int(query.get("limit") or 10), 100)
        with self.lock:
            rows = [r for r in self.records.get(object_name, {}).values() if r["archived"]]
        page = rows[after : after + limit]
        answer: dict[str, Any] = {"results": [self.shaped(r, []) for r in page]}
        if after + limit < len(rows):
            answer["paging"] = {"next": {"after": str(after + limit), "link": "?after="}}
        return 200, answer

    def batch_read(self, object_name: str, body: dict[str, Any]) -> tuple[int, Any]:
        asked = body.get("properties") or []
        history = "dealstage" in (body.get("propertiesWithHistory") or [])
        found, missing = [], []
        for item in body.get("inputs") or []:
            record = self.records.get(object_name, {}).get(str(item["id"]))
            if record is None or record["archived"]:
                missing.append(str(item["id"]))
            else:
                found.append(self.shaped(record, asked, history=history))
        answer = _complete(found)
        if missing:
            message = "Could not get some DEAL objects, they may be deleted or not exist."
            answer |= {"errors": [_not_found(missing, message)], "numErrors": 1}
            return 207, answer
        return 200, answer

    def batch_update(self, object_name: str, body: dict[str, Any]) -> tuple[int, Any]:
        inputs = body.get("inputs") or []
        if len(inputs) > 100:
            return 400, _error(400, "VALIDATION_ERROR", f"at most 100 inputs, not {len(inputs)}")
        known = set(self.properties.get(object_name, []))
        for item in inputs:
            for name in item.get("properties") or {}:
                spec = self.property_specs.get((object_name, name), {})
                if name not in known:
                    return 400, _invalid(name, f'Property "{name}" does not exist', "PROPERTY_DOESNT_EXIST")
                if spec.get("calculated") or spec.get("modificationMetadata", {}).get("readOnlyValue"):
                    return 400, _invalid(name, f'"{name}" is a read only property', "READ_ONLY_VALUE")
            if str(item.get("id")) in self.rejects:
                return 400, _error(400, "VALIDATION_ERROR", self.rejects[str(item["id"])])
        self.update_calls.append(len(inputs))
        if self.on_update is not None:
            self.on_update([str(item["id"]) for item in inputs])
        table = self.records.get(object_name, {})
        results, missing = [], []
        for item in inputs:
            record_id = str(item["id"])
            record = table.get(record_id)
            if record is None or record["archived"]:
                missing.append(record_id)
                continue
            self.put(object_name, item.get("properties") or {}, record_id=record_id)
            results.append(self.shaped(table[record_id], list(item.get("properties") or {})))
        answer = _complete(results)
        if not missing:
            return 200, answer
        answer["numErrors"] = len(missing)
        answer["errors"] = [_not_found([i], f"Object not found. objectId: {i}") for i in missing]
        return 207, answer

    def associations(self, from_type: str, body: dict[str, Any]) -> tuple[int, Any]:
        # HubSpot's defined association types to a company: deal 341 (Primary 5), contact 279 (Primary 1)
        plain, primary_type = {"deals": (341, 5), "contacts": (279, 1)}[from_type]
        results = []
        for item in body.get("inputs") or []:
            linked = self.companies_of.get(str(item["id"]), [])
            if not linked:
                continue
            results.append(
                {
                    "from": {"id": str(item["id"])},
                    "to": [
                        {
                            "toObjectId": int(company),
                            "associationTypes": [
                                {"category": "HUBSPOT_DEFINED", "typeId": plain, "label": None}
                            ]
                            + (
                                [{"category": "HUBSPOT_DEFINED", "typeId": primary_type, "label": "Primary"}]
                                if primary
                                else []
                            ),
                        }
                        for company, primary in linked
                    ],
                }
            )
        now = iso(dt.datetime.now(dt.UTC))
        return 200, {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}

    def pipelines(self) -> dict[str, Any]:
        at = "2025-01-01T00:00:00.000Z"
        return {
            "results": [
                {
                    "id": pid,
                    "label": label,
                    "displayOrder": n,
                    "createdAt": at,
                    "updatedAt": at,
                    "archived": False,
                    "stages": [
                        {
                            "id": sid,
                            "label": slabel,
                            "displayOrder": m,
                            "metadata": {"isClosed": "true" if closed else "false", "probability": p},
                            "createdAt": at,
                            "updatedAt": at,
                            "archived": False,
                            "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
                        }
                        for m, (sid, slabel, closed, p) in enumerate(stages)
                    ],
                }
                for n, (pid, label, stages) in enumerate(PIPELINES)
            ]
        }

    def property_list(self, object_name: str) -> dict[str, Any]:
        return {
            "results": [
                {
                    "name": name,
                    "label": name.replace("_", " ").title(),
                    "type": self.property_types.get(name, "string"),
                    "fieldType": FIELD_TYPES.get(self.property_types.get(name, "string"), "text"),
                    "groupName": f"{object_name[:-1]}information",
                    "description": "",
                    "options": [],
                }
                | self.property_specs.get((object_name, name), {})
                for name in self.properties.get(object_name, [])
            ]
        }

    def owner_page(self, query: dict[str, str]) -> dict[str, Any]:
        archived = str(query.get("archived", "")).lower() == "true"
        return {
            "results": [
                {
                    "id": o["id"],
                    "email": o["email"],
                    "firstName": o["firstName"],
                    "lastName": o["lastName"],
                    "userId": int(o["id"]),
                    "type": "PERSON",
                    "createdAt": "2025-01-01T00:00:00.000Z",
                    "updatedAt": "2025-01-01T00:00:00.000Z",
                    "archived": archived,
                }
                for o in self.owners
                if o.get("archived", False) == archived
            ]
        }


def _complete(results: list[dict[str, Any]]) -> dict[str, Any]:
    """A batch answer: its results, done now."""
    now = iso(dt.datetime.now(dt.UTC))
    return {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}


def _not_found(ids: list[str], message: str) -> dict[str, Any]:
    """A 207 answer's error naming records it could not find."""
    return {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "message": message,
        "context": {"ids": ids},
        "links": {},
        "errors": [],
    }


def _invalid(name: str, message: str, error: str) -> dict[str, Any]:
    """HubSpot's answer to a value a property does not take (the whole batch refused)."""
    said = [{"isValid": False, "message": message, "error": error, "name": name}]
    return _error(400, "VALIDATION_ERROR", f"Property values were not valid: {json.dumps(said)}")


def _error(status: int, category: str, message: str) -> dict[str, Any]:
    return {"status": "error", "message": message, "correlationId": uuid.uuid4().hex, "category": category}


def _handler(fake: FakeHubSpot) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:
            pass

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_POST(self) -> None:
            parsed = urlparse(self.path)
            raw = self._body()
            if parsed.path == "/oauth/v1/token":
                self._send(*fake.token({k: v[0] for k, v in parse_qs(raw.decode()).items()}))
                return
            self._api("POST", parsed.path, {}, json.loads(raw or b"{}"))

        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
            if parsed.path == "/oauth/authorize":
                code = uuid.uuid4().hex
                fake.codes[code] = query.get("redirect_uri", "")
                answer = urlencode({"code": code, "state": query.get("state", "")})
                target = f"{query.get('redirect_uri', '')}?{answer}"
                self._send(302, {}, {"Location": target})
                return
            if parsed.path.startswith("/oauth/v1/access-tokens/"):
                token = parsed.path.rsplit("/", 1)[1]
                if token not in fake.tokens:
                    self._send(404, _error(404, "OBJECT_NOT_FOUND", "token not found"))
                    return
                info = {
                    "token": token,
                    "user": "admin@example.com",
                    "hub_domain": "example.com",
                    "scopes": SCOPES,
                    "hub_id": HUB_ID,
                    "app_id": 123,
                    "expires_in": 1800,
                    "user_id": 1,
                    "token_type": "access",
                }
                self._send(200, info)
                return
            self._api("GET", parsed.path, query, {})

        def _api(self, method: str, path: str, query: dict[str, str], body: Any) -> None:
            fake.requests.append(f"{method} {path}")
            if not fake.authorised(self.headers.get("Authorization", "")):
                self._send(
                    401,
                    _error(401, "EXPIRED_AUTHENTICATION", "The OAuth token used to make this call expired"),
                )
                return
            with fake.lock:
                allowed = fake.within_window()
            if not allowed:
                fake.rate_limited += 1
                limited = {
                    "status": "error",
                    "message": "You have reached your ten_secondly_rolling limit.",
                    "errorType": "RATE_LIMIT",
                    "correlationId": uuid.uuid4().hex,
                    "policyName": "TEN_SECONDLY_ROLLING",
                }
                self._send(429, limited, fake.limit_headers())
                return
            if fake.faults:
                fault = fake.faults.pop(0)
                extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                self._send(fault.status, fault.body, fake.limit_headers() | extra)
                return
            time.sleep(fake.delay)
            status, answer = self._route(method, path, query, body)
            self._send(status, answer, fake.limit_headers())

        def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
            parts = path.strip("/").split("/")
            if method == "GET" and path == "/account-info/v3/details":
                return 200, {
                    "portalId": HUB_ID,
                    "timeZone": "US/Eastern",
                    "companyCurrency": fake.currency,
                    "additionalCurrencies": [],
                    "utcOffset": "-05:00",
                    "utcOffsetMilliseconds": -18000000,
                    "uiDomain": "app.hubspot.com",
                    "dataHostingLocation": "na1",
                }
            if method == "POST" and path == "/oauth/v2/private-apps/get/access-token-info":
                if body.get("tokenKey") != fake.private_token:
                    return 404, _error(404, "OBJECT_NOT_FOUND", "token not found")
                return 200, {"userId": 1, "hubId": HUB_ID, "appId": 77, "scopes": SCOPES}
            if method == "GET" and parts[:3] == ["crm", "v3", "owners"]:
                return 200, fake.owner_page(query)
            if method == "GET" and path == "/crm/v3/pipelines/deals":
                return 200, fake.pipelines()
            if method == "GET" and parts[:3] == ["crm", "v3", "properties"] and len(parts) == 4:
                return 200, fake.property_list(parts[3])
            if parts[:3] == ["crm", "v3", "objects"] and len(parts) >= 4:
                object_name = parts[3]
                if method == "POST" and parts[4:] == ["search"]:
                    if fake.on_page is not None:
                        fake.on_page(fake.pages_served)
                    fake.pages_served += 1
                    return fake.search(object_name, body)
                if method == "GET" and len(parts) == 4 and str(query.get("archived", "")).lower() == "true":
                    return fake.archived(object_name, query)
                if method == "POST" and parts[4:] == ["batch", "read"]:
                    return fake.batch_read(object_name, body)
                if method == "POST" and parts[4:] == ["batch", "update"]:
                    return fake.batch_update(object_name, body)
            if method == "POST" and path in (
                "/crm/v4/associations/deals/companies/batch/read",
                "/crm/v4/associations/contacts/companies/batch/read",
            ):
                return fake.associations(parts[3], body)
            return 404, _error(404, "OBJECT_NOT_FOUND", f"not served here: {method} {path}")

    return Handler


def seed_portal(fake: FakeHubSpot, *, companies: int, deals: int) -> None:
    """A small portal: two owners (one deactivated), companies, and deals through the default pipeline's
    stages, each with its company, every third with a partner."""
    fake.owners = [
        {"id": "501", "email": "ada@example.com", "firstName": "Ada", "lastName": "Seller"},
        {"id": "502", "email": "old@example.com", "firstName": "Former", "lastName": "Rep", "archived": True},
    ]
    company_ids = [
        fake.put(
            "companies",
            {
                "name": f"Company {n}",
                "domain": f"company{n}.com",
                "country": "United States",
                "hubspot_owner_id": "501",
                "numberofemployees": 10 + n,
            },
        )
        for n in range(companies)
    ]
    stages = [s[0] for s in PIPELINES[0][2]]
    for n in range(deals):
        deal = fake.put(
            "deals",
            {
                "dealname": f"Deal {n}",
                "dealstage": "appointmentscheduled",
                "pipeline": "default",
                "amount": f"{1000 + n}",
                "deal_currency_code": "USD",
                "closedate": "2026-03-31T00:00:00.000Z",
                "hubspot_owner_id": "501" if n % 4 else "502",
                "dealtype": "newbusiness",
                "partner": "Acme Partners" if n % 3 == 0 else None,
            },
        )
        fake.associate(deal, company_ids[n % companies])
        final = stages[n % len(stages)]
        if final != "appointmentscheduled":
            fake.put("deals", {"dealstage": final}, record_id=deal)
