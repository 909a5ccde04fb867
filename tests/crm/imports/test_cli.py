"""`ecoops import`: mapping and preview, counts, the error report, and an exit status scripts can trust."""

import csv
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from ecoops.cli import app
from ecoops.config import get_settings
from ecoops.crm.models import Opportunity
from ecoops.db import make_engine
from tests.crm.imports.files import write_csv

OPPORTUNITIES = """Id,AccountId,Name,StageName,Amount,CloseDate
006A0000001aaaaAAA,001A0000001aaaaAAA,Deal one,Prospecting,"$1,000.00",2025-06-30
006A0000001bbbbAAA,001A0000001aaaaAAA,Deal two,Closed Won,250,2025-03-31
"""


@pytest.fixture
def database(tmp_path, monkeypatch) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("ECOOPS_DATABASE_URL", url)
    monkeypatch.setenv("ECOOPS_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COLUMNS", "300")  # room for the whole preview table
    get_settings.cache_clear()
    engine = make_engine(url)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def _names(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(connection.scalars(select(Opportunity.name)))


def test_dry_run_then_import_then_nothing_changes(database, tmp_path):
    path = write_csv(tmp_path, OPPORTUNITIES, name="opps.csv")
    runner = CliRunner()
    dry = runner.invoke(app, ["import", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "salesforce_api" in dry.output and "StageName" in dry.output and "Deal one" in dry.output
    assert "Dry run: nothing was written." in dry.output
    assert _names(database) == []

    done = runner.invoke(app, ["import", str(path)])
    assert done.exit_code == 0 and "Committed" in done.output
    assert _names(database) == ["Deal one", "Deal two"]
    again = runner.invoke(app, ["import", str(path)])
    assert "│ 2    │ 0   │ 0       │ 2         │ 0" in again.output


def test_refused_rows_exit_1_and_go_to_the_report(database, tmp_path):
    path = write_csv(
        tmp_path, OPPORTUNITIES + "006A0000001ccccAAA,,Bad,Prospecting,ten,2025-06-30\n", name="opps.csv"
    )
    report = tmp_path / "errors.csv"
    result = CliRunner().invoke(app, ["import", str(path), "--errors", str(report)])
    assert result.exit_code == 1 and "Refused: nothing was written" in result.output
    assert _names(database) == []
    with report.open(encoding="utf-8-sig", newline="") as stream:
        assert list(csv.reader(stream))[1] == ["4", "Amount", "ten", "not an amount: 'ten'"]

    accepted = CliRunner().invoke(app, ["import", str(path), "--accept-valid"])
    assert accepted.exit_code == 1 and "Committed" in accepted.output
    assert _names(database) == ["Deal one", "Deal two"]


def test_an_unreadable_file_exits_2(database, tmp_path):
    path = write_csv(tmp_path, "Customer No,Customer\n1,x\n", name="erp.csv")
    result = CliRunner().invoke(app, ["import", str(path)])
    assert result.exit_code == 2 and "erp.csv: the columns" in result.output


def test_a_mapping_file_and_a_kind(database, tmp_path):
    path = write_csv(tmp_path, "Deal,Phase\nD1,Won\n", name="deals.csv")
    mapping = tmp_path / "deals.json"
    mapping.write_text('{"kind": "opportunities", "columns": {"crm_id": "Deal", "stage": "Phase"}}')
    result = CliRunner().invoke(app, ["import", str(path), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    with database.connect() as connection:
        assert connection.execute(select(Opportunity.crm_id, Opportunity.is_won)).all() == [("D1", True)]
