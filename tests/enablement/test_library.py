"""The library through its pages: adding files and links, the upload errors (empty, too big, wrong type,
neither or both), attaching to a referral and opening from it, which moves the utilisation figure."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import SYSTEM
from ecoops.config import Settings
from ecoops.enablement import content
from ecoops.enablement.models import ContentItem, ContentUse
from tests.enablement.scenario import seed
from tests.factories import csrf_from, sign_in

GUIDE = content.ContentInput("Guide", "guide")


def _upload(session: Session, settings: Settings, body: bytes, name: str, link: str = "") -> ContentItem:
    data = content.ContentInput("Guide", "guide", link=link)
    return content.add_content(session, SYSTEM, data, settings, content.Upload(io.BytesIO(body), name))


@pytest.mark.parametrize(
    ("body", "name", "link", "message"),
    [
        (b"", "empty.pdf", "", r"^file: empty\.pdf is empty$"),
        (
            b"x" * 11,
            "big.pdf",
            "",
            r"^file: big\.pdf is larger than 10 bytes, the most kept as enablement content$",
        ),
        (b"MZ", "tool.exe", "", r"^file: tool\.exe is not a kind the library keeps \(\.pdf, "),
        (b"%PDF", "deck.pdf", "https://example.com/deck", r"^link: an item is a file or a link, not both$"),
    ],
)
def test_a_bad_file_is_refused_naming_the_field_and_leaves_nothing(
    session: Session, settings: Settings, body: bytes, name: str, link: str, message: str
) -> None:
    small = settings.model_copy(update={"enablement_max_file_bytes": 10})
    with pytest.raises(InvalidInput, match=message):
        _upload(session, small, body, name, link)
    assert session.scalar(select(func.count()).select_from(ContentItem)) == 0
    folder = content.content_folder(small)
    assert not folder.exists() or not any(folder.iterdir())


def test_a_file_at_the_cap_is_kept(session: Session, settings: Settings) -> None:
    small = settings.model_copy(update={"enablement_max_file_bytes": 10})
    item = _upload(session, small, b"x" * 10, "C:\\decks\\ten.pdf")
    assert (item.file_name, item.file_size) == ("ten.pdf", 10)
    assert content.content_file(item, small).read_bytes() == b"x" * 10


def test_neither_file_nor_link_and_bad_tags_are_refused(session: Session, settings: Settings) -> None:
    with pytest.raises(InvalidInput, match=r"^file: upload a file or give a link$"):
        content.add_content(session, SYSTEM, GUIDE, settings)
    with pytest.raises(InvalidInput, match=r"^link: an http:// or https:// address"):
        content.add_content(session, SYSTEM, content.ContentInput("G", "guide", link="ftp://x"), settings)
    bad_motion = content.ContentInput("G", "guide", link="https://example.com", motion="golf")
    with pytest.raises(InvalidInput, match=r"^motion: must be one of referral, co_sell"):
        content.add_content(session, SYSTEM, bad_motion, settings)
    with pytest.raises(InvalidInput, match=r"^title: give the item a title$"):
        content.add_content(
            session, SYSTEM, content.ContentInput(" ", "guide", link="https://e.com"), settings
        )


@pytest.mark.all_backends
def test_the_library_page_adds_files_and_says_what_was_wrong(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = seed(session, settings)
    session.flush()
    sign_in(client, w.manager.email)
    page = client.get("/enablement")
    assert page.status_code == 200 and "Alpha BOM" in page.text
    token = csrf_from(page.text)
    form = {
        "csrf_token": token,
        "title": "Partner deck",
        "kind": "deck",
        "motion": "co_sell",
        "stage": "close",
    }
    empty = client.post("/enablement/content", data=form, files={"file": ("deck.pptx", b"", "application/x")})
    assert "Nothing was changed: file: deck.pptx is empty." in client.get(empty.headers["location"]).text
    wrong = client.post(
        "/enablement/content", data=form, files={"file": ("deck.exe", b"MZ", "application/x")}
    )
    assert "file: deck.exe is not a kind the library keeps" in client.get(wrong.headers["location"]).text
    done = client.post(
        "/enablement/content", data=form, files={"file": ("deck.pptx", b"PK", "application/x")}
    )
    assert "Added to the library: Partner deck." in client.get(done.headers["location"]).text
    item = session.scalars(select(ContentItem).where(ContentItem.title == "Partner deck")).one()
    assert (item.motion, item.stage, item.partner_id, item.file_size) == ("co_sell", "close", None, 2)
    filtered = client.get("/enablement", params={"motion": "co_sell"}).text
    assert "Partner deck" in filtered and "Joint value guide" not in filtered  # that one is for referrals


@pytest.mark.all_backends
def test_a_seller_opens_content_from_a_referral_and_the_figure_moves(
    client: TestClient, session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = seed(session, settings)
    monkeypatch.setattr(Settings, "today", lambda self: date(2025, 3, 20))
    session.flush()
    sign_in(client, w.seller.email)
    referral = w.referrals[0]
    page = client.get(f"/referrals/{referral.id}")
    assert "Referral playbook" in page.text and "No content attached." in page.text
    offered = re.findall(r'<option value="(\d+)"', page.text)  # the attach list: all partners' and Alpha's
    assert sorted(map(int, offered)) == sorted([w.for_all.id, w.alpha_file.id])
    token = csrf_from(page.text)
    attached = client.post(
        f"/referrals/{referral.id}/content", data={"csrf_token": token, "content_id": w.alpha_file.id}
    )
    assert attached.headers["location"] == f"/referrals/{referral.id}#enablement"
    page = client.get(f"/referrals/{referral.id}").text
    assert "Alpha BOM attached." in page
    assert f'href="/content/{w.alpha_file.id}/open?referral={referral.id}"' in page
    figure = "/enablement?from=2025-03-01&to=2025-03-31"
    assert "0 of 2 inbound referrals" in client.get(figure).text
    opened = client.get(f"/content/{w.alpha_file.id}/open", params={"referral": referral.id})
    assert opened.content == b"Alpha BOM body"
    assert "attachment" in opened.headers["content-disposition"]
    assert "1 of 2 inbound referrals" in client.get(figure).text
    client.get(f"/content/{w.alpha_file.id}/open", params={"referral": referral.id})  # again, same day
    assert session.scalar(select(func.count()).select_from(ContentUse)) == 1
    link = client.get(f"/content/{w.for_all.id}/open")  # a page that moves on to the link at once
    assert link.status_code == 200
    assert '<meta http-equiv="refresh" content="0; url=https://example.com/guide">' in link.text
    assert 'href="https://example.com/guide"' in link.text
    shared = client.post(
        f"/content/{w.for_all.id}/share",
        data={"csrf_token": token, "referral": referral.id, "back": "https://evil.example/"},
    )
    assert shared.headers["location"] == f"/enablement/content/{w.for_all.id}"  # never another site
    assert (
        "Shared Joint value guide: send https://example.com/guide"
        in client.get(shared.headers["location"]).text
    )
