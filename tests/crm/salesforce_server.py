"""A local Salesforce: the REST API and OAuth endpoints the sync calls, after the public reference.

- `/services/oauth2/authorize` (answers at once with a redirect carrying a code) and
  `/services/oauth2/token` with the `authorization_code`, `refresh_token` and JWT bearer grants (the
  assertion's RS256 signature checked against the connected app's certificate);
- `/services/data/vNN.0/query` and `queryAll` (SOQL: a field list with `Owner.Name`, one object,
  `WHERE SystemModstamp >= <datetime>` or `WHERE IsActive = true`, `ORDER BY SystemModstamp, Id`
  (or `DESC`), `LIMIT n`),
  paged `page_size` records at a time with `nextRecordsUrl`, each query's result fixed when it is made
  (a cursor); `query` leaves deleted records out, `queryAll` gives them with `IsDeleted` true;
- `/services/data/vNN.0/sobjects/<object>/describe` (each field's name, type — the standard fields'
  as Salesforce types them, `TYPES` —, length and whether it is `updateable`; `add_field` adds a
  custom one, `remove_field` takes one away);
- `PATCH /services/data/vNN.0/composite/sobjects` (sObject Collections update: up to 200 records,
  `allOrNone`, a result per record in the request's order: `{"id", "success": true, "errors": []}` or
  `{"success": false, "errors": [{"statusCode", "message", "fields"}]}`); `WHERE Id IN ('…', …)`
  queries; `reject(id, message)` makes a record fail a validation rule;
- `SELECT COUNT() FROM <object> [WHERE …]` (`totalSize` and no records);
- Bulk API 2.0 query jobs: `POST /services/data/vNN.0/jobs/query` (`operation` `query` or `queryAll`,
  a SOQL query without ORDER BY; the job's records fixed when it is made), `GET jobs/query/<id>`
  (`UploadComplete`, then `InProgress`, then `JobComplete`, or `Failed` with an `errorMessage` when
  `fail_jobs` says so), `GET jobs/query/<id>/results?maxRecords=N&locator=L` (CSV, every value quoted,
  `Sforce-NumberOfRecords` and `Sforce-Locator`, the string `null` after the last chunk). A query's CSV
  lines are made once and kept until the org's data changes, so a second reader is served from memory;
- `Sforce-Limit-Info: api-usage=<used>/<max>` on every data answer.

Faults: `fail_next(status, body, retry_after, on=…)` answers the next data request(s) (whose path
contains `on`) with an error; `fail_jobs` fails the Bulk API jobs made from then on;
`expire_tokens()` makes every issued access token answer 401 INVALID_SESSION_ID; `on_page` is
called before each page is served (a test deletes a record between pages there); `page_delay`.
Served over HTTPS with a self-signed certificate (simple-salesforce always speaks https), whose
file `ca_file` the client is given.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import ipaddress
import itertools
import json
import re
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.pg_server import free_port

VERSION = "62.0"
ORG_ID = "00D000000000001EAA"
STAMP = "%Y-%m-%dT%H:%M:%S.000+0000"
JOB_SECONDS = 0.0  # how long a Bulk API job stays InProgress (besides one poll)
_SOQL = re.compile(
    r"SELECT (?P<fields>.+?) FROM (?P<object>\w+)(?: WHERE (?P<where>.+?))?(?: ORDER BY (?P<order>.+?))?"
    r"(?: LIMIT (?P<limit>\d+))?$"
)


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(STAMP)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files in `folder`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "sf-cert.pem", folder / "sf-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


def rsa_key_pair() -> tuple[str, str]:
    """A connected app's private key (PEM, for our side) and its public key (for the server to check)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


DESCRIBE: dict[str, list[str]] = {
    "Account": [
        "Id",
        "IsDeleted",
        "Name",
        "Type",
        "ParentId",
        "BillingCountry",
        "Website",
        "Industry",
        "NumberOfEmployees",
        "OwnerId",
        "CreatedDate",
        "SystemModstamp",
    ],
    "Opportunity": [
        "Id",
        "IsDeleted",
        "AccountId",
        "Name",
        "StageName",
        "Amount",
        "CloseDate",
        "Type",
        "LeadSource",
        "IsClosed",
        "IsWon",
        "OwnerId",
        "CreatedDate",
        "SystemModstamp",
        "CurrencyIsoCode",
        "PartnerAccountId",
    ],
    "OpportunityHistory": [
        "Id",
        "OpportunityId",
        "StageName",
        "Amount",
        "CloseDate",
        "CreatedDate",
        "SystemModstamp",
        "IsDeleted",
    ],
    "Contact": [
        "Id",
        "IsDeleted",
        "AccountId",
        "FirstName",
        "LastName",
        "Email",
        "Title",
        "Phone",
        "OwnerId",
        "CreatedDate",
        "SystemModstamp",
    ],
    "OpportunityStage": ["Id", "MasterLabel", "IsClosed", "IsWon", "IsActive", "SortOrder"],
    "CurrencyType": ["Id", "IsoCode", "ConversionRate", "IsCorporate", "IsActive"],
    "OpportunityPartner": [
        "Id",
        "OpportunityId",
        "AccountToId",
        "IsPrimary",
        "Role",
        "SystemModstamp",
        "IsDeleted",
    ],
}
# Each standard field's describe `type` (any other: string).
TYPES = {
    "Id": "id",
    **dict.fromkeys(
        ("ParentId", "OwnerId", "AccountId", "OpportunityId", "PartnerAccountId", "AccountToId"), "reference"
    ),
    **dict.fromkeys(("IsDeleted", "IsClosed", "IsWon", "IsActive", "IsPrimary", "IsCorporate"), "boolean"),
    **dict.fromkeys(("CreatedDate", "SystemModstamp"), "datetime"),
    **dict.fromkeys(("Type", "Industry", "StageName", "LeadSource", "CurrencyIsoCode"), "picklist"),
    "Website": "url",
    "Email": "email",
    "Phone": "phone",
    "CloseDate": "date",
    "Amount": "currency",
    "ConversionRate": "double",
    "NumberOfEmployees": "int",
}
STAGES = [
    ("Prospecting", False, False),
    ("Negotiation", False, False),
    ("Closed Won", True, True),
    ("Closed Lost", True, False),
]


@dataclass
class Fault:
    status: int
    body: Any
    retry_after: str | None = None
    on: str = ""  # answers the first request whose path contains this


@dataclass
class Job:
    """A Bulk API 2.0 query job: its records' CSV lines (header first), made when it was created."""

    id: str
    operation: str
    object_name: str
    lines: list[str]
    ready_at: float  # time.monotonic() from when it is complete (once polled twice)
    polls: int = 0
    error: str = ""


class _Lines:
    """A file for csv.writer that keeps each row's line."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.write = self.lines.append


@dataclass
class FakeSalesforce:
    """The org's data and the server's knobs; `url` is where it listens once started."""

    folder: Path
    client_id: str = "3MVG9-test-consumer-key"
    client_secret: str = "test-consumer-secret"
    username: str = "integration@example.com"
    public_key: str = ""
    page_size: int = 2000
    page_delay: float = 0.0
    api_max: int = 100_000
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # object → id → record
    describe: dict[str, list[str]] = field(default_factory=lambda: {k: list(v) for k, v in DESCRIBE.items()})
    field_meta: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # object → field → meta
    rejects: dict[str, str] = field(default_factory=dict)  # record id → a validation rule's message
    collection_calls: list[int] = field(default_factory=list)  # records in each composite PATCH
    faults: list[Fault] = field(default_factory=list)
    on_page: Callable[[int], None] | None = None
    requests: list[str] = field(default_factory=list)  # every path asked for, in order
    grants: list[str] = field(default_factory=list)  # every token grant type served
    api_used: int = 0
    codes: dict[str, str] = field(default_factory=dict)  # authorization code → redirect_uri
    tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    cursors: dict[str, tuple[str, list[str], list[dict[str, Any]]]] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    fail_jobs: str = ""  # a Bulk API job made while this is set fails with it as its errorMessage
    job_seconds: float = JOB_SECONDS
    version: int = 0  # moves whenever a record does: the CSV kept for a query is then made anew
    csv_kept: dict[tuple[Any, ...], list[str]] = field(default_factory=dict)
    pages_served: int = 0
    clock: dt.datetime = field(default_factory=lambda: dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC))
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    ca_file: str = ""
    _server: ThreadingHTTPServer | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- data -------------------------------------------------------------------------------------

    def tick(self) -> str:
        self.clock += dt.timedelta(seconds=1)
        return stamp(self.clock)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):015d}"[:18]

    def put(self, object_name: str, values: dict[str, Any], *, modstamp: str | None = None) -> str:
        """Create or change a record (its SystemModstamp moves on); returns its id."""
        with self.lock:
            table = self.records.setdefault(object_name, {})
            record_id = values.get("Id") or self.new_id(
                {"Account": "001", "Opportunity": "006", "Contact": "003"}.get(object_name, "00x")
            )
            record = dict(
                table.get(record_id, {"Id": record_id, "IsDeleted": False, "CreatedDate": stamp(self.clock)})
            )
            record.update(values)
            record["SystemModstamp"] = modstamp or self.tick()
            table[record_id] = record  # a new dict: an open cursor keeps the old one
            self.version += 1
            return record_id

    def delete(self, object_name: str, record_id: str) -> None:
        """Move a record to the recycle bin: `queryAll` gives it with IsDeleted true (an opportunity's
        history goes with it, as in Salesforce)."""
        with self.lock:
            table = self.records[object_name]
            table[record_id] = dict(table[record_id], IsDeleted=True, SystemModstamp=self.tick())
            self.version += 1
            if object_name == "Opportunity":
                history = self.records.get("OpportunityHistory", {})
                for key, row in list(history.items()):
                    if row["OpportunityId"] == record_id:
                        history[key] = dict(row, IsDeleted=True, SystemModstamp=self.tick())

    def add_field(
        self, object_name: str, name: str, *, type: str = "string", length: int = 255, updateable: bool = True
    ) -> None:
        """A custom field on `object_name` (e.g. Ecoops_Partners__c, a Text(255))."""
        if name not in self.describe[object_name]:
            self.describe[object_name].append(name)
        self.field_meta.setdefault(object_name, {})[name] = {
            "type": type,
            "length": length,
            "updateable": updateable,
        }

    def remove_field(self, object_name: str, name: str) -> None:
        """A field deleted from the schema: describe no longer lists it and a query naming it fails."""
        self.describe[object_name].remove(name)

    def reject(self, record_id: str, message: str) -> None:
        """Writes to this record fail as a validation rule fails (FIELD_CUSTOM_VALIDATION_EXCEPTION)."""
        self.rejects[record_id] = message

    def described(self, object_name: str) -> dict[str, Any]:
        meta = self.field_meta.get(object_name, {})
        read_only = {"Id", "IsDeleted", "CreatedDate", "SystemModstamp", "IsClosed", "IsWon"}
        fields = [
            {"name": n, "type": TYPES.get(n, "string"), "length": 255, "updateable": n not in read_only}
            | meta.get(n, {})
            for n in self.describe[object_name]
        ]
        return {"name": object_name, "fields": fields}

    def update_collection(self, body: Any) -> tuple[int, Any]:
        """sObject Collections update: each record on its own unless allOrNone (then all or none)."""
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list):
            return 400, [{"errorCode": "JSON_PARSER_ERROR", "message": "records: a list is required"}]
        if len(records) > 200:
            return 400, [
                {
                    "errorCode": "EXCEEDED_ID_LIMIT",
                    "message": "record limit reached. cannot submit more than 200 records into this call",
                }
            ]
        self.collection_calls.append(len(records))
        results, changes = [], []
        with self.lock:
            for record in records:
                errors = self._update_errors(record)
                if errors:
                    results.append({"success": False, "errors": errors})
                else:
                    results.append({"id": record["id"], "success": True, "errors": []})
                    changes.append(record)
            failed = len(changes) < len(records)
            if body.get("allOrNone") and failed:
                rolled = {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "Record rolled back"}
                results = [r if not r["success"] else {"success": False, "errors": [rolled]} for r in results]
                changes = []
            for record in changes:
                object_name = record["attributes"]["type"]
                table = self.records[object_name]
                values = {k: v for k, v in record.items() if k not in ("attributes", "id")}
                self.clock += dt.timedelta(seconds=1)
                table[record["id"]] = dict(table[record["id"]], **values, SystemModstamp=stamp(self.clock))
                self.version += 1
        return 200, results

    def _update_errors(self, record: Any) -> list[dict[str, Any]]:
        def error(code: str, message: str, fields: list[str] | None = None) -> list[dict[str, Any]]:
            return [{"statusCode": code, "message": message, "fields": fields or []}]

        object_name = (record.get("attributes") or {}).get("type", "")
        if object_name not in self.describe:
            return error("INVALID_TYPE", f"sObject type '{object_name}' is not supported")
        found = self.records.get(object_name, {}).get(str(record.get("id")))
        if found is None:
            return error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["Id"])
        if found.get("IsDeleted"):
            return error("ENTITY_IS_DELETED", "entity is deleted")
        fields = {f["name"]: f for f in self.described(object_name)["fields"]}
        for name, value in record.items():
            if name in ("attributes", "id"):
                continue
            meta = fields.get(name)
            if meta is None:
                return error("INVALID_FIELD", f"No such column '{name}' on sobject of type {object_name}")
            if not meta["updateable"]:
                return error(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {name}. Please check the security settings of this "
                    "field and verify that it is read/write for your profile or permission set.",
                    [name],
                )
            if isinstance(value, str) and len(value) > meta["length"]:
                return error(
                    "STRING_TOO_LONG",
                    f"{name}: data value too large: {value[:20]} (max length={meta['length']})",
                )
        if record["id"] in self.rejects:
            return error("FIELD_CUSTOM_VALIDATION_EXCEPTION", self.rejects[record["id"]])
        return []

    def fail_next(
        self, status: int, body: Any, *, retry_after: str | None = None, times: int = 1, on: str = ""
    ) -> None:
        self.faults.extend(Fault(status, body, retry_after, on) for _ in range(times))

    def fault_for(self, path: str) -> Fault | None:
        for n, fault in enumerate(self.faults):
            if fault.on in path:
                return self.faults.pop(n)
        return None

    def expire_tokens(self) -> None:
        self.tokens.clear()

    # -- serving ----------------------------------------------------------------------------------

    def start(self) -> FakeSalesforce:
        cert, key = self_signed(self.folder)
        self.ca_file = str(cert)
        port = free_port()
        server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, name="fake-salesforce", daemon=True).start()
        self.url = f"https://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def issue(self, *, refresh: bool) -> dict[str, Any]:
        token = uuid.uuid4().hex
        self.tokens.add(token)
        answer = {
            "access_token": token,
            "instance_url": self.url,
            "id": f"{self.url}/id/{ORG_ID}/005000000000001AAA",
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
            "scope": "api refresh_token",
        }
        if refresh:
            refresh_token = uuid.uuid4().hex
            self.refresh_tokens.add(refresh_token)
            answer["refresh_token"] = refresh_token
        return answer

    def token(self, form: dict[str, str]) -> tuple[int, Any]:
        grant = form.get("grant_type", "")
        self.grants.append(grant)
        bad = (400, {"error": "invalid_grant", "error_description": "authentication failure"})
        if grant == "authorization_code":
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}
            if self.codes.pop(form.get("code", ""), None) != form.get("redirect_uri"):
                return bad
            return 200, self.issue(refresh=True)
        if grant == "refresh_token":
            if (
                form.get("refresh_token") not in self.refresh_tokens
                or form.get("client_id") != self.client_id
            ):
                return bad
            return 200, self.issue(refresh=False)
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            try:
                claims = jwt.decode(
                    form.get("assertion", ""), self.public_key, algorithms=["RS256"], audience=self.url
                )
            except jwt.PyJWTError as exc:
                return 400, {"error": "invalid_grant", "error_description": str(exc)}
            if claims.get("iss") != self.client_id or claims.get("sub") != self.username:
                return bad
            return 200, self.issue(refresh=False)
        return 400, {"error": "unsupported_grant_type", "error_description": grant}

    def select(
        self, soql: str, *, include_deleted: bool
    ) -> tuple[str, list[str], list[dict[str, Any]], bool] | tuple[int, Any]:
        """(object, fields, the records the query selects, whether it counts) or an error answer."""
        match = _SOQL.match(" ".join(soql.split()))
        if match is None:
            return 400, [{"errorCode": "MALFORMED_QUERY", "message": soql}]
        fields = [f.strip() for f in match["fields"].split(",")]
        object_name = match["object"]
        counting = fields == ["COUNT()"]
        known = set(self.describe.get(object_name, []))
        for name in [] if counting else fields:
            if name.split(".")[0] + ("Id" if "." in name else "") not in known:
                return 400, [
                    {"errorCode": "INVALID_FIELD", "message": f"No such column '{name}' on {object_name}"}
                ]
        where = match["where"] or ""
        with self.lock:
            table = self.records.get(object_name, {})
            if ids := re.fullmatch(r"Id IN \(([^)]*)\)", where):  # the ids looked up, not a scan
                wanted = [i.strip().strip("'") for i in ids[1].split(",")]
                rows = [table[i] for i in wanted if i in table]
                where = ""
            else:
                rows = list(table.values())
        if not include_deleted:
            rows = [r for r in rows if not r.get("IsDeleted")]
        if since := re.fullmatch(r"SystemModstamp >= (\S+)", where):
            floor = stamp(dt.datetime.fromisoformat(since[1].replace("Z", "+00:00")))
            rows = [r for r in rows if r["SystemModstamp"] >= floor]
        elif where == "IsActive = true":
            rows = [r for r in rows if r.get("IsActive", True)]
        elif where:
            return 400, [{"errorCode": "MALFORMED_QUERY", "message": f"not served here: {where}"}]
        if match["order"]:
            rows.sort(key=lambda r: (r["SystemModstamp"], r["Id"]), reverse=" DESC" in match["order"])
        if match["limit"]:
            rows = rows[: int(match["limit"])]
        return object_name, fields, rows, counting

    def query(self, soql: str, *, include_deleted: bool) -> tuple[int, Any]:
        selected = self.select(soql, include_deleted=include_deleted)
        if isinstance(selected[0], int):
            return selected  # type: ignore[return-value]
        object_name, fields, rows, counting = selected  # type: ignore[misc]
        if counting:
            return 200, {"totalSize": len(rows), "done": True, "records": []}
        return 200, self.page(object_name, fields, rows, 0, None)

    def page(
        self, object_name: str, fields: list[str], rows: list[dict[str, Any]], start: int, cursor: str | None
    ) -> dict[str, Any]:
        """One page of a query's records, shaped as the API gives them (the cursor keeps the rest)."""
        end = start + self.page_size
        done = end >= len(rows)
        shaped = [_shape(object_name, r, fields) for r in rows[start:end]]
        answer: dict[str, Any] = {"totalSize": len(rows), "done": done, "records": shaped}
        if not done:
            cursor = cursor or uuid.uuid4().hex[:15]
            self.cursors[cursor] = (object_name, fields, rows)
            answer["nextRecordsUrl"] = f"/services/data/v{VERSION}/query/{cursor}-{end}"
        return answer

    def more(self, locator: str) -> tuple[int, Any]:
        cursor, _, start = locator.rpartition("-")
        kept = self.cursors.get(cursor)
        if kept is None:
            return 400, [{"errorCode": "INVALID_QUERY_LOCATOR", "message": "invalid query locator"}]
        return 200, self.page(*kept, int(start), cursor)

    # -- Bulk API 2.0 query jobs ------------------------------------------------------------------

    def job_info(self, job: Job) -> dict[str, Any]:
        state = "InProgress"
        if job.polls > 1 and time.monotonic() >= job.ready_at:
            state = "Failed" if job.error else "JobComplete"
        answer: dict[str, Any] = {
            "id": job.id,
            "operation": job.operation,
            "object": job.object_name,
            "createdById": "005000000000001AAA",
            "createdDate": stamp(self.clock),
            "systemModstamp": stamp(self.clock),
            "state": state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(VERSION),
            "lineEnding": "LF",
            "columnDelimiter": "COMMA",
        }
        if state == "JobComplete":
            answer["numberRecordsProcessed"] = len(job.lines) - 1
        if state == "Failed":
            answer["errorMessage"] = job.error
        return answer

    def create_job(self, body: Any) -> tuple[int, Any]:
        operation = body.get("operation") if isinstance(body, dict) else None
        soql = str(body.get("query") or "") if isinstance(body, dict) else ""
        if operation not in ("query", "queryAll"):
            return 400, [{"errorCode": "INVALIDJOB", "message": f"unsupported operation: {operation}"}]
        if re.search(r"\b(ORDER BY|COUNT\(\)|GROUP BY|OFFSET)\b", soql, re.IGNORECASE):
            return 400, [{"errorCode": "INVALIDJOB", "message": f"not supported by Bulk API 2.0: {soql}"}]
        selected = self.select(soql, include_deleted=operation == "queryAll")
        if isinstance(selected[0], int):
            status, error = selected
            return status, [dict(error[0], errorCode="INVALIDJOB")]  # type: ignore[index]
        object_name, fields, rows, _counting = selected  # type: ignore[misc]
        key = (soql, operation, self.version)
        lines = self.csv_kept.get(key)
        if lines is None:
            lines = self.csv_kept[key] = _csv_lines(fields, rows)
        job_id, ready_at = f"750{next(self._ids):015d}", time.monotonic() + self.job_seconds
        job = Job(job_id, operation, object_name, lines, ready_at, error=self.fail_jobs)
        self.jobs[job.id] = job
        return 200, self.job_info(job) | {"state": "UploadComplete"}

    def poll_job(self, job_id: str) -> tuple[int, Any]:
        job = self.jobs.get(job_id)
        if job is None:
            return 404, [{"errorCode": "NOT_FOUND", "message": f"no query job {job_id}"}]
        job.polls += 1
        return 200, self.job_info(job)

    def results(self, job_id: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        """A chunk of the job's CSV: up to maxRecords records from the locator on."""
        job = self.jobs.get(job_id)
        if job is None:
            return 404, [{"errorCode": "NOT_FOUND", "message": f"no query job {job_id}"}], {}
        if self.job_info(job)["state"] != "JobComplete":
            message = "the job is not complete" if not job.error else job.error
            return 400, [{"errorCode": "INVALIDJOBSTATE", "message": message}], {}
        try:
            start = int(base64.b64decode(query.get("locator") or "MA==").decode())
            most = int(query.get("maxRecords") or 50_000)
        except ValueError:
            return 400, [{"errorCode": "INVALID_LOCATOR", "message": "invalid locator or maxRecords"}], {}
        end = min(start + most, len(job.lines) - 1)
        chunk = "".join([job.lines[0], *job.lines[1 + start : 1 + end]]).encode()
        locator = base64.b64encode(str(end).encode()).decode() if end < len(job.lines) - 1 else "null"
        return 200, chunk, {"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(end - start)}


def _csv_lines(fields: list[str], rows: list[dict[str, Any]]) -> list[str]:
    """The header and each record as a line of Bulk API CSV (every value quoted, null as empty)."""
    out = _Lines()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(fields)
    values = ((_csv_value(r.get(f)) for f in fields) for r in rows)
    writer.writerows(values)
    return out.lines


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return value


def _shape(object_name: str, record: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "attributes": {
            "type": object_name,
            "url": f"/services/data/v{VERSION}/sobjects/{object_name}/{record['Id']}",
        }
    }
    for name in fields:
        if "." in name:
            relation, sub = name.split(".", 1)
            value = record.get(name)
            shaped[relation] = None if value is None else {"attributes": {"type": "User"}, sub: value}
        else:
            shaped[name] = record.get(name)
    return shaped


def _handler(fake: FakeSalesforce) -> type[BaseHTTPRequestHandler]:
    data_prefix = f"/services/data/v{VERSION}/"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:
            pass

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            csv_chunk = isinstance(body, bytes)
            payload = body if csv_chunk else json.dumps(body).encode()
            self.send_response(status)
            kind = "text/csv" if csv_chunk else "application/json;charset=UTF-8"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            if urlparse(self.path).path != "/services/oauth2/token":
                self.do_GET()
                return
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            self._send(*fake.token(form))

        def do_PATCH(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
            fake.requests.append(parsed.path)
            length = int(self.headers.get("Content-Length") or 0)
            sent = self.rfile.read(length) if length else b""
            if parsed.path == "/services/oauth2/authorize":
                code = uuid.uuid4().hex
                fake.codes[code] = query.get("redirect_uri", "")
                target = (
                    query.get("redirect_uri", "")
                    + "?"
                    + urlencode({"code": code, "state": query.get("state", "")})
                )
                self._send(302, {}, {"Location": target})
                return
            if not parsed.path.startswith(data_prefix):
                self._send(404, [{"errorCode": "NOT_FOUND", "message": parsed.path}])
                return
            if self.headers.get("Authorization", "").removeprefix("Bearer ") not in fake.tokens:
                self._send(
                    401, [{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}]
                )
                return
            if fault := fake.fault_for(parsed.path):
                self._send(
                    fault.status,
                    fault.body,
                    {"Retry-After": fault.retry_after} if fault.retry_after else None,
                )
                return
            fake.api_used += 1
            limits = {"Sforce-Limit-Info": f"api-usage={fake.api_used}/{fake.api_max}"}
            rest = parsed.path[len(data_prefix) :]
            job = re.fullmatch(r"jobs/query(?:/(\w+)(/results)?)?/?", rest)
            if job and self.command == "POST" and not job[1]:
                status, body = fake.create_job(json.loads(sent or b"null"))
            elif job and job[1] and job[2]:
                if fake.on_page is not None:
                    fake.on_page(fake.pages_served)
                time.sleep(fake.page_delay)
                status, body, more = fake.results(job[1], query)
                limits |= more
            elif job and job[1]:
                status, body = fake.poll_job(job[1])
            elif self.command == "PATCH":
                if rest.rstrip("/") == "composite/sobjects":
                    status, body = fake.update_collection(json.loads(sent or b"null"))
                else:
                    status, body = 404, [{"errorCode": "NOT_FOUND", "message": parsed.path}]
            elif rest in ("query", "query/", "queryAll", "queryAll/"):
                status, body = fake.query(query.get("q", ""), include_deleted=rest.startswith("queryAll"))
            elif rest.startswith(("query/", "queryAll/")):
                if fake.on_page is not None:
                    fake.on_page(fake.pages_served)
                time.sleep(fake.page_delay)
                status, body = fake.more(rest.split("/", 1)[1])
            elif (described := re.fullmatch(r"sobjects/(\w+)/describe/?", rest)) and described[
                1
            ] in fake.describe:
                status, body = 200, fake.described(described[1])
            else:
                status, body = 404, [{"errorCode": "NOT_FOUND", "message": parsed.path}]
            fake.pages_served += 1
            self._send(status, body, limits)

    return Handler


def seed_org(fake: FakeSalesforce, *, accounts: int, opportunities: int) -> None:
    """A small org: stages, two currencies (USD corporate, EUR), accounts and their opportunities."""
    for label, closed, won in STAGES:
        fake.put(
            "OpportunityStage", {"MasterLabel": label, "IsClosed": closed, "IsWon": won, "IsActive": True}
        )
    fake.put("CurrencyType", {"IsoCode": "USD", "ConversionRate": 1.0, "IsCorporate": True, "IsActive": True})
    fake.put(
        "CurrencyType", {"IsoCode": "EUR", "ConversionRate": 0.8, "IsCorporate": False, "IsActive": True}
    )
    account_ids = [
        fake.put(
            "Account",
            {
                "Name": f"Account {n}",
                "Website": f"https://www.account{n}.com",
                "BillingCountry": "US",
                "Owner.Name": "Ada Seller",
                "NumberOfEmployees": 10 + n,
            },
        )
        for n in range(accounts)
    ]
    for n in range(opportunities):
        stage = STAGES[n % len(STAGES)][0]
        opportunity = fake.put(
            "Opportunity",
            {
                "AccountId": account_ids[n % accounts],
                "Name": f"Deal {n}",
                "StageName": stage,
                "Amount": 1000.0 + n,
                "CurrencyIsoCode": "EUR" if n % 5 == 0 else "USD",
                "CloseDate": "2026-03-31",
                "IsClosed": stage.startswith("Closed"),
                "IsWon": stage == "Closed Won",
                "Owner.Name": "Ada Seller",
                "LeadSource": "Partner Referral",
                "Type": "New Business",
                "PartnerAccountId": account_ids[0] if n % 3 == 0 else None,
            },
        )
        fake.put(
            "OpportunityHistory",
            {
                "OpportunityId": opportunity,
                "StageName": "Prospecting",
                "Amount": 1000.0 + n,
                "CreatedDate": "2026-01-02T10:00:00.000+0000",
            },
        )
        if stage != "Prospecting":
            fake.put(
                "OpportunityHistory",
                {
                    "OpportunityId": opportunity,
                    "StageName": stage,
                    "Amount": 1000.0 + n,
                    "CreatedDate": "2026-01-03T10:00:00.000+0000",
                },
            )
