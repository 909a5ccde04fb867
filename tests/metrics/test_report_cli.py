"""`ecoops report`: the figures of the hand-worked scenario as a table, CSV and JSON, filters and errors."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from ecoops.cli import app
from ecoops.config import get_settings
from ecoops.db import make_engine, migrate, session_factory, transaction
from tests.metrics.scenario import Scenario, seed

PERIOD = ["--as-of", "2025-03-31", "--from", "2025-01-01", "--to", "2025-03-31"]


@pytest.fixture
def scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scenario]:
    url = f"sqlite:///{tmp_path / 'report.db'}"
    monkeypatch.setenv("ECOOPS_DATABASE_URL", url)
    monkeypatch.setenv("ECOOPS_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COLUMNS", "300")
    get_settings.cache_clear()
    engine: Engine = make_engine(url)
    migrate(engine)
    with transaction(session_factory(engine)) as session:
        seeded = seed(session)
    yield seeded
    engine.dispose()
    get_settings.cache_clear()


def test_table_output_shows_hand_worked_figures_and_no_data(scenario: Scenario) -> None:
    result = CliRunner().invoke(app, ["report", *PERIOD, "revenue", "pipeline"])
    assert result.exit_code == 0, result.output
    assert "As of 2025-03-31, period 2025-01-01 to 2025-03-31" in result.output
    assert "1 opportunities left out" in result.output
    lines = result.output.splitlines()
    assert any("sourced" in line and "4,000.00" in line for line in lines)
    assert any("influenced" in line and "2,000.00" in line for line in lines)
    assert any("sourced" in line and "no data" in line for line in lines)  # nothing open is sourced


def test_csv_and_json_with_a_partner_filter(scenario: Scenario) -> None:
    beta = ["--partner", str(scenario.beta.id)]
    as_json = CliRunner().invoke(app, ["report", *PERIOD, *beta, "--format", "json", "revenue"])
    assert as_json.exit_code == 0, as_json.output
    revenue = {r["classification"]: r for r in json.loads(as_json.output)["revenue"]}
    assert revenue["sourced"]["revenue"] == 1000.0 and revenue["influenced"]["revenue"] is None
    as_csv = CliRunner().invoke(app, ["report", *PERIOD, "--format", "csv", "scorecard"])
    assert as_csv.exit_code == 0, as_csv.output
    body = as_csv.output.split("\n", 1)[1]
    cards = {r["partner"]: r for r in csv.DictReader(io.StringIO(body))}
    assert cards["Acme Partners"]["linear_revenue"] == "5000.0"
    assert cards["Beta Co"]["value_received"] == ""  # no referral received: no data


def test_unknown_figure_and_backwards_period_exit_2(scenario: Scenario) -> None:
    assert CliRunner().invoke(app, ["report", "nonsense"]).exit_code == 2
    backwards = CliRunner().invoke(app, ["report", "--from", "2025-03-01", "--to", "2025-01-01"])
    assert backwards.exit_code == 2 and "starts on or before it ends" in backwards.output
