"""Through the pages and the API as people use them: an upload over the size cap is refused with 413
before it is stored or imported, whether or not the request says its length."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from ecoops.actors import Role
from ecoops.config import Settings
from ecoops.crm.models import Account, ImportRun
from ecoops.web.body_limit import FORM_SLACK, BodyLimit, BodyTooLarge
from tests.asgi import run_asgi
from tests.factories import bearer, csrf_from, make_user, sign_in

CAP = 10_000
ACCOUNTS = "Record ID,Company name,Company Domain Name\r\n101,Acme,acme.com\r\n"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(env="test", var_dir=tmp_path / "var", secret_key="t" * 40, import_max_upload_bytes=CAP)


def _upload(client, body: bytes, name: str = "companies.csv"):
    token = csrf_from(client.get("/imports").text)
    return client.post("/imports", data={"csrf_token": token}, files={"file": (name, body, "text/csv")})


def _nothing_stored(session, settings) -> bool:
    uploads = settings.uploads_dir
    return (
        session.scalar(select(func.count()).select_from(Account)) == 0
        and session.scalar(select(func.count()).select_from(ImportRun)) == 0
        and (not uploads.exists() or not any(uploads.iterdir()))
    )


def test_an_upload_over_the_cap_is_refused_with_413(client, session, settings):
    sign_in(client, make_user(session, Role.OPS).email)
    assert _upload(client, ACCOUNTS.encode() * 10).status_code == 303  # 600 bytes: well under
    refused = _upload(client, ACCOUNTS.encode() * (CAP // len(ACCOUNTS) + 2000))
    assert refused.status_code == 413 and refused.headers["content-type"].startswith("text/html")
    assert "The upload is larger than 10,000 bytes" in refused.text and "ecoops import" in refused.text


def test_a_body_without_a_length_is_counted_as_it_arrives(client, session, settings):
    sign_in(client, make_user(session, Role.OPS).email)
    token = csrf_from(client.get("/imports").text)
    sent = 0

    def body():
        nonlocal sent
        yield (
            f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            '--b\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        for _ in range(1000):
            sent += 1
            yield ACCOUNTS.encode() * 100
        yield b"\r\n--b--\r\n"

    refused = client.post(
        "/imports", content=body(), headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert refused.status_code == 413 and "larger than 10,000 bytes" in refused.text
    assert _nothing_stored(session, settings)


def test_the_api_answers_413_in_json(client, session, settings):
    headers = bearer(session, make_user(session, Role.OPS))
    files = {"file": ("big.csv", ACCOUNTS.encode() * 3000, "text/csv")}
    refused = client.post("/api/v1/imports", files=files, headers=headers)
    assert refused.status_code == 413, refused.text
    assert "larger than 10,000 bytes" in refused.json()["detail"]
    assert _nothing_stored(session, settings)


def test_a_declared_length_over_the_cap_is_refused_before_any_byte_is_read():
    reads = []

    async def receive():
        reads.append(1)
        return {"type": "http.request", "body": b"x" * 100, "more_body": False}

    async def app(scope, receive, send):
        await receive()  # what the app's form parser does first

    headers = [
        (b"content-type", b"multipart/form-data; boundary=b"),
        (b"content-length", str(CAP + FORM_SLACK + 1).encode()),
    ]
    with pytest.raises(BodyTooLarge):
        run_asgi(BodyLimit(app, upload_limit=CAP), {"type": "http", "headers": headers}, receive, None)
    assert reads == []
    headers[1] = (b"content-length", str(CAP + FORM_SLACK).encode())  # at the cap: read
    run_asgi(BodyLimit(app, upload_limit=CAP), {"type": "http", "headers": headers}, receive, None)
    assert reads == [1]
