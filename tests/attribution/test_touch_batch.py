"""Touches from elsewhere: the batch API (all or nothing, each problem named by row and field, a retry
adds nothing twice), the `touches` CSV import through the import pipeline, and review in batches by
API and CLI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ecoops.actors import Role
from ecoops.attribution import touch_batch
from ecoops.attribution.models import PartnerTouch
from ecoops.cli import app
from ecoops.config import Settings, get_settings
from ecoops.crm.imports.formats import ImportFileError
from ecoops.db import make_engine, migrate, session_factory, transaction
from ecoops.web.app import create_app
from tests.at_once import at_once
from tests.crm.imports.files import run, write_csv
from tests.factories import bearer, make_account, make_opportunity, make_partner, make_user


def _touches(session: Session) -> list[tuple[str | None, str, date, str]]:
    rows = session.execute(
        select(
            PartnerTouch.external_id, PartnerTouch.kind, PartnerTouch.touched_on, PartnerTouch.status
        ).order_by(PartnerTouch.id)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _world(session: Session) -> int:
    partner = make_partner(session, name="Summit Partners", crm_id="P-SUMMIT")
    make_account(session, crm_id="A-1")
    make_opportunity(session, crm_id="O-1", account_crm_id="A-1")
    return partner.id


def test_a_bad_row_refuses_the_whole_batch_and_a_retry_adds_nothing(
    client: TestClient, session: Session
) -> None:
    partner_id = _world(session)
    headers = bearer(session, make_user(session, Role.OPS))
    good = [
        {
            "external_id": "hist-1",
            "partner_id": partner_id,
            "kind": "referral",
            "touched_on": "2024-05-02",
            "opportunity_crm_id": "O-1",
        },
        {
            "external_id": "hist-2",
            "partner": "P-SUMMIT",  # by its CRM id
            "kind": "marketplace",
            "touched_on": "2024-06-30",
            "account_crm_id": "A-1",
            "status": "confirmed",
        },
    ]
    bad = [
        good[0],
        {**good[1], "kind": "gossip"},
        {**good[1], "external_id": "hist-3", "touched_on": "2999-01-01", "opportunity_crm_id": "O-NONE"},
        {**good[1], "external_id": "hist-1"},
        {**good[1], "external_id": "hist-4", "partner": "Nobody Inc"},
    ]
    refused = client.post("/api/v1/touches", json={"touches": bad}, headers=headers)
    assert refused.status_code == 400
    assert [(p["row"], p["field"]) for p in refused.json()["problems"]] == [
        (1, "kind"),
        (2, "touched_on"),
        (2, "opportunity_crm_id"),
        (3, "external_id"),  # hist-1 is row 0's
        (4, "partner"),
    ]
    assert _touches(session) == []  # nothing of the good row either

    stored = client.post("/api/v1/touches", json={"touches": good}, headers=headers)
    assert stored.status_code == 200, stored.text
    assert [t["id"] for t in stored.json()["existing"]] == []
    expected = [
        ("hist-1", "referral", date(2024, 5, 2), "proposed"),
        ("hist-2", "marketplace", date(2024, 6, 30), "confirmed"),
    ]
    assert _touches(session) == expected
    retried = client.post("/api/v1/touches", json={"touches": good}, headers=headers).json()
    assert (retried["new"], [t["external_id"] for t in retried["existing"]]) == ([], ["hist-1", "hist-2"])
    assert _touches(session) == expected  # the same two, once

    # Only importers bring touches: a partner manager may review them, not add them.
    manager = bearer(session, make_user(session, Role.PARTNER_MANAGER))
    assert client.post("/api/v1/touches", json={"touches": good}, headers=manager).status_code == 403


def test_review_in_a_batch_by_api_all_or_none(client: TestClient, session: Session) -> None:
    partner_id = _world(session)
    headers = bearer(session, make_user(session, Role.OPS))
    rows = [
        {
            "external_id": f"r-{n}",
            "partner_id": partner_id,
            "kind": "co_sell",
            "touched_on": "2025-01-0" + str(n),
            "opportunity_crm_id": "O-1",
        }
        for n in (1, 2, 3)
    ]
    ids = [
        t["id"] for t in client.post("/api/v1/touches", json={"touches": rows}, headers=headers).json()["new"]
    ]
    manager = bearer(session, make_user(session, Role.PARTNER_MANAGER))
    missing = client.post(
        "/api/v1/touches/review",
        json={"touch_ids": [ids[0], 999_999], "decision": "confirm", "reason": "checked"},
        headers=manager,
    )
    assert missing.status_code == 404
    assert [s for *_, s in _touches(session)] == ["proposed"] * 3
    done = client.post(
        "/api/v1/touches/review",
        json={"touch_ids": ids[:2], "decision": "confirm", "reason": "in last year's QBR deck"},
        headers=manager,
    )
    assert [(t["id"], t["status"]) for t in done.json()] == [(ids[0], "confirmed"), (ids[1], "confirmed")]
    assert [s for *_, s in _touches(session)] == ["confirmed", "confirmed", "proposed"]
    blank = client.post(
        "/api/v1/touches/review",
        json={"touch_ids": ids[2:], "decision": "dispute", "reason": " "},
        headers=manager,
    )
    assert blank.status_code == 422


TOUCHES_CSV = """Touch ID,Partner,Touch Kind,Touch Date,Opportunity ID,Account ID,Note
T-1,Summit Partners,Co-sell,2024-11-05,O-1,,joint call
T-2,P-SUMMIT,Deal Registration,2024-10-01,,A-1,registered in the old portal
T-3,summit partners,Marketplace,2024-12-24,O-1,,"=HYPERLINK(""http://evil.example"",""x"")"
"""


def test_a_touch_file_imports_with_its_real_dates_once(session: Session, tmp_path: Path) -> None:
    _world(session)
    outcome = run(session, write_csv(tmp_path, TOUCHES_CSV))
    assert (outcome.kind.value, outcome.status, outcome.new, outcome.rejected) == (
        "touches",
        "committed",
        3,
        0,
    )
    assert _touches(session) == [
        ("T-1", "co_sell", date(2024, 11, 5), "proposed"),
        ("T-2", "deal_registration", date(2024, 10, 1), "proposed"),
        ("T-3", "marketplace", date(2024, 12, 24), "proposed"),
    ]
    formula = session.scalar(select(PartnerTouch.note).where(PartnerTouch.external_id == "T-3"))
    assert formula == '=HYPERLINK("http://evil.example","x")'  # kept as the text it is, never run
    again = run(session, write_csv(tmp_path, TOUCHES_CSV))
    assert (again.status, again.new, again.unchanged) == ("committed", 0, 3)
    assert len(_touches(session)) == 3


def test_a_touch_file_with_a_bad_row_is_refused_naming_line_and_column(
    session: Session, tmp_path: Path
) -> None:
    _world(session)
    text = TOUCHES_CSV + "T-4,Nobody Inc,Co-sell,2024-11-05,O-1,,\nT-5,P-SUMMIT,=1+1,2024-11-05,O-1,,\n"
    outcome = run(session, write_csv(tmp_path, text))
    assert (outcome.status, outcome.rejected) == ("rejected", 2)
    assert [(p.line, p.field) for p in outcome.problems] == [(5, "Partner"), (6, "Touch Kind")]
    assert _touches(session) == []
    accepted = run(session, write_csv(tmp_path, text), accept_valid=True)
    assert (accepted.new, accepted.rejected) == (3, 2)


def test_empty_and_wrongly_encoded_touch_files_are_refused(session: Session, tmp_path: Path) -> None:
    _world(session)
    with pytest.raises(ImportFileError, match="empty"):
        run(session, write_csv(tmp_path, ""), kind="touches")
    header_only = TOUCHES_CSV.splitlines()[0] + "\n"
    with pytest.raises(ImportFileError, match="no rows"):
        run(session, write_csv(tmp_path, header_only))
    latin = tmp_path / "touches.csv"  # 0x81 is no character in UTF-8 nor in Windows-1252
    latin.write_bytes(TOUCHES_CSV.encode("utf-8").replace(b"joint call", b"joint \x81 call"))
    with pytest.raises(ImportFileError, match="neither UTF-8 nor Windows-1252"):
        run(session, latin)
    assert _touches(session) == []


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'touches.db'}"
    monkeypatch.setenv("ECOOPS_DATABASE_URL", url)
    monkeypatch.setenv("ECOOPS_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    engine = make_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def test_cli_reviews_a_kind_in_one_batch(cli_db: Engine, tmp_path: Path) -> None:
    with transaction(session_factory(cli_db)) as session:
        _world(session)
        run(session, write_csv(tmp_path, TOUCHES_CSV))
    runner = CliRunner()
    no_reason = runner.invoke(
        app, ["touches", "review", "--kind", "co_sell", "--decision", "confirm", "--reason", " "]
    )
    assert no_reason.exit_code == 2 and "reason" in no_reason.output
    listed = runner.invoke(app, ["touches", "list", "--kind", "marketplace"])
    assert "1 proposed" in listed.output and "Summit Partners" in listed.output
    done = runner.invoke(
        app,
        [
            "touches",
            "review",
            "--kind",
            "co_sell",
            "--decision",
            "confirm",
            "--reason",
            "QBR notes",
            "--label",
            "ana",
        ],
    )
    assert done.exit_code == 0, done.output
    with session_factory(cli_db)() as session:
        assert _touches(session) == [
            ("T-1", "co_sell", date(2024, 11, 5), "confirmed"),
            ("T-2", "deal_registration", date(2024, 10, 1), "proposed"),
            ("T-3", "marketplace", date(2024, 12, 24), "proposed"),
        ]
        assert (
            session.scalar(
                select(func.count()).select_from(PartnerTouch).where(PartnerTouch.reviewed_by == "ana")
            )
            == 1
        )
    nothing = runner.invoke(
        app, ["touches", "review", "--kind", "co_sell", "--decision", "confirm", "--reason", "x"]
    )
    assert nothing.exit_code == 1


def test_a_touch_dated_today_is_taken_and_one_dated_tomorrow_is_not(session: Session) -> None:
    partner_id = _world(session)
    today = date(2025, 6, 30)
    row = touch_batch.TouchIn("edge", partner_id, "co_sell", today, "O-1")
    assert touch_batch.check(session, [row], today) == []
    tomorrow = touch_batch.TouchIn("edge", partner_id, "co_sell", date(2025, 7, 1), "O-1")
    assert [(p.row, p.field) for p in touch_batch.check(session, [tomorrow], today)] == [(0, "touched_on")]


@pytest.mark.all_backends
def test_the_same_batch_sent_twice_at_once_is_stored_once(committed_engine: Engine, tmp_path: Path) -> None:
    engine = committed_engine
    with Session(engine) as session:
        partner_id = _world(session)
        headers = bearer(session, make_user(session, Role.OPS))
        session.commit()
    app = create_app(Settings(env="test", var_dir=tmp_path / "var", secret_key="w" * 40), engine)
    try:
        for round_ in range(3):
            rows = [
                {
                    "external_id": f"twin-{round_}-{n}",
                    "partner_id": partner_id,
                    "kind": "co_sell",
                    "touched_on": "2025-01-02",
                    "opportunity_crm_id": "O-1",
                }
                for n in range(5)
            ]

            def send(rows: list[dict[str, object]] = rows) -> dict[str, list[dict[str, object]]]:
                response = TestClient(app).post("/api/v1/touches", json={"touches": rows}, headers=headers)
                assert response.status_code == 200, response.text
                answer: dict[str, list[dict[str, object]]] = response.json()
                return answer

            answers = at_once(send, send)
            assert len(answers) == 2
            assert sorted(len(a["new"]) for a in answers) == [0, 5]  # one stored them, the other found them
            assert all(len(a["new"]) + len(a["existing"]) == 5 for a in answers)
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(PartnerTouch)) == 15
    finally:
        engine.dispose()
