"""`ecoops map-upload` and `ecoops map`: a partner's list stored and mapped from the shell, unchanged
partners skipped on the next run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecoops.cli import app
from ecoops.config import get_settings
from ecoops.db import make_engine, migrate, session_factory, transaction
from tests.factories import make_account, make_partner
from tests.mapping.test_mapping_runs import PARTNER_ROWS, write


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    url = f"sqlite:///{tmp_path / 'map.db'}"
    monkeypatch.setenv("ECOOPS_DATABASE_URL", url)
    monkeypatch.setenv("ECOOPS_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    engine = make_engine(url)
    migrate(engine)
    with transaction(session_factory(engine)) as session:
        make_account(session, crm_id="A1", name="Acme", domain="acme.com", country="US")
        make_partner(session, name="Northwind")
    yield write(tmp_path, PARTNER_ROWS)
    engine.dispose()
    get_settings.cache_clear()


def test_upload_then_map_skips_an_unchanged_partner(workspace: Path) -> None:
    uploaded = CliRunner().invoke(app, ["map-upload", "northwind", str(workspace)])
    assert uploaded.exit_code == 0, uploaded.output
    assert "6 accounts" in uploaded.output and "lines 7" in uploaded.output and "lines 8" in uploaded.output
    assert "1 matches" in uploaded.output

    again = CliRunner().invoke(app, ["map", "--partner", "Northwind"])
    assert again.exit_code == 0 and "0 mapped, 1 unchanged" in again.output

    same = CliRunner().invoke(app, ["map-upload", "Northwind", str(workspace)])
    assert "nothing changed" in same.output


def test_unknown_partner_and_unusable_file_exit_2(workspace: Path, tmp_path: Path) -> None:
    assert CliRunner().invoke(app, ["map", "--partner", "Nobody"]).exit_code == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("Account ID,Population\nP1,Customers\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["map-upload", "Northwind", str(bad)])
    assert result.exit_code == 2 and "bad.csv: no column for" in result.output
