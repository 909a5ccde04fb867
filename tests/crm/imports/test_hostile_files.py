"""Files people upload that cannot be imported, through the review page as people use it: each is
refused naming the file, the line and (where there is one) the column; nothing is imported."""

import html

import pytest
from sqlalchemy import func, select

from ecoops.actors import Role
from ecoops.crm.models import Account, ImportRun
from tests.factories import csrf_from, make_user, sign_in


def _review(client, body: bytes, name: str):
    token = csrf_from(client.get("/imports").text)
    uploaded = client.post("/imports", data={"csrf_token": token}, files={"file": (name, body, "text/csv")})
    assert uploaded.status_code == 303
    return client.get(uploaded.headers["location"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "f.csv: the file is empty"),
        (b"Record ID,Company name\r\n", "f.csv: the file has a header but no rows"),
        (
            "Record ID,Company name\r\n1,Müller\r\n".encode() + b"2,M\xfcller\r\n",
            "f.csv: line 3, byte 38, column 'Company name': not UTF-8, in a file otherwise written in UTF-8",
        ),
        (
            ",".join(f"c{n}" for n in range(100_000)).encode() + b"\r\n1,2\r\n",
            "f.csv: line 1: 100,000 columns; at most 2,000",
        ),
        (
            b"Record ID,Company name\r\n1," + b"x" * (1 << 20) + b"\r\n",
            "f.csv: line 2: a row longer than 1,048,576 characters",
        ),
        (b"Record ID,Company name\r\n1,Acme\r\n\x00\x00", "f.csv: line 3, byte 32: a NUL byte"),
    ],
    ids=["empty", "header only", "damaged utf-8", "100k columns", "1 MiB row", "nul"],
)
def test_unreadable_uploads_are_refused_on_the_review_page(client, session, body, message):
    sign_in(client, make_user(session, Role.OPS).email)
    review = _review(client, body, "f.csv")
    assert review.status_code == 400
    assert message in html.unescape(review.text)
    assert len(review.content) < 100_000  # the page does not list the columns of a file it refused
    assert session.scalar(select(func.count()).select_from(Account)) == 0
    assert session.scalar(select(func.count()).select_from(ImportRun)) == 0


def test_a_windows_1252_upload_is_imported_right(client, session):
    sign_in(client, make_user(session, Role.OPS).email)
    review = _review(client, "Record ID,Company name\r\n1,Müller & Söhne\r\n".encode("cp1252"), "w.csv")
    assert review.status_code == 200 and "Windows-1252" in review.text
    assert "Müller &amp; Söhne" in review.text
