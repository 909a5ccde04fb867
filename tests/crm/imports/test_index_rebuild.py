"""Bulk loads: a large load rebuilds the plain indexes afterwards (same records, same indexes); the
cyclic garbage collector rests while rows stream and is restored however the import ends."""

import pytest
from sqlalchemy import inspect, select

from ecoops.crm.imports import staging
from ecoops.crm.models import Opportunity
from tests.crm.imports.files import run, snapshot, write_csv
from tests.crm.imports.test_upsert import OPPORTUNITIES

pytestmark = pytest.mark.all_backends


def _indexes(connection, table: str = "opportunities") -> list[tuple[str, tuple[str, ...], bool]]:
    found = inspect(connection).get_indexes(table)
    return sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in found)


def _rows(session) -> list[tuple[object, ...]]:
    o = Opportunity.__table__
    return sorted(session.execute(select(*[c for c in o.c if c.name != "id"])).all(), key=repr)


def _rebuilds(monkeypatch) -> list[list[str]]:
    """Every rebuild decided, by the names of the indexes rebuilt."""
    decided: list[list[str]] = []
    original = staging.RecordStage.rebuilt_indexes

    def spy(self, new):
        indexes = original(self, new)
        decided.append([index.name for index in indexes])
        return indexes

    monkeypatch.setattr(staging.RecordStage, "rebuilt_indexes", spy)
    return decided


def test_a_load_into_an_empty_table_rebuilds_its_plain_indexes_and_stores_the_same(
    session, connection, tmp_path, monkeypatch
):
    before = _indexes(connection)
    rebuilds = _rebuilds(monkeypatch)
    monkeypatch.setattr(staging, "REBUILD_MIN_ROWS", 10**9)
    nested = session.begin_nested()
    plain = run(session, write_csv(tmp_path, OPPORTUNITIES))
    stored_plainly = _rows(session)
    nested.rollback()
    assert _rows(session) == []

    monkeypatch.setattr(staging, "REBUILD_MIN_ROWS", 3)
    rebuilt = run(session, write_csv(tmp_path, OPPORTUNITIES))

    assert rebuilds[0] == []
    assert sorted(rebuilds[1]) == [
        "ix_opportunities_account_crm_id",
        "ix_opportunities_close_date",
        "ix_opportunities_created_on",
        "ix_opportunities_owner",
    ]
    assert (rebuilt.new, rebuilt.status) == (plain.new, plain.status) == (3, "committed")
    assert _rows(session) == stored_plainly
    assert _indexes(connection) == before  # the unique key was never dropped; the others are back


def test_a_load_smaller_than_the_table_keeps_its_indexes(session, tmp_path, monkeypatch):
    monkeypatch.setattr(staging, "REBUILD_MIN_ROWS", 1)
    rebuilds = _rebuilds(monkeypatch)
    run(session, write_csv(tmp_path, OPPORTUNITIES))  # 3 new into 0 stored: rebuilt
    fourth = "006A0000001ddddAAA,001A0000001aaaaAAA,Acme add-on,Prospecting,10,2025-03-31,,Dana Lee,\n"
    run(session, write_csv(tmp_path, OPPORTUNITIES + fourth))  # 1 new into 3 stored: kept
    run(session, write_csv(tmp_path, OPPORTUNITIES))  # below the minimum: kept
    assert [bool(names) for names in rebuilds] == [True, False]  # the third wrote nothing at all


def test_an_import_failing_after_the_drop_leaves_the_indexes_and_table_as_they_were(
    session, connection, tmp_path, monkeypatch
):
    before, rows_before = _indexes(connection), snapshot(connection)
    monkeypatch.setattr(staging, "REBUILD_MIN_ROWS", 1)
    rebuilds = _rebuilds(monkeypatch)

    def fail(self):
        raise RuntimeError("the database went away mid-upsert")

    monkeypatch.setattr(staging.RecordStage, "_upsert", fail)
    with pytest.raises(RuntimeError), session.begin_nested():
        run(session, write_csv(tmp_path, OPPORTUNITIES))
    assert rebuilds and rebuilds[0]  # the indexes were dropped before the failure
    assert _indexes(connection) == before
    assert snapshot(connection) == rows_before


def test_the_garbage_collector_is_paused_only_while_rows_stream(session, tmp_path, monkeypatch):
    import gc

    from ecoops.crm.imports import service

    seen: list[bool] = []
    original = staging.RecordStage.add_many

    def spy(self, records):
        seen.append(gc.isenabled())
        original(self, records)

    monkeypatch.setattr(staging.RecordStage, "add_many", spy)
    run(session, write_csv(tmp_path, OPPORTUNITIES))
    assert seen and not any(seen)
    assert gc.isenabled()

    def fail(self, records):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(staging.RecordStage, "add_many", fail)
    with pytest.raises(RuntimeError), session.begin_nested():
        run(session, write_csv(tmp_path, OPPORTUNITIES))
    assert gc.isenabled()  # restored after a failure too
    gc.disable()
    with service.cyclic_gc_paused():
        pass
    assert not gc.isenabled()  # a caller's own choice is left as it was
    gc.enable()


def test_every_kind_rebuilds_the_indexes_its_table_has(session, connection, tmp_path, monkeypatch):
    """Each table's model indexes must be the migrated ones, or the drop would fail on a large load."""
    from tests.crm.imports.test_upsert import ACCOUNTS

    monkeypatch.setattr(staging, "REBUILD_MIN_ROWS", 1)
    rebuilds = _rebuilds(monkeypatch)
    before = {name: _indexes(connection, name) for name in ("accounts", "opportunities")}
    run(session, write_csv(tmp_path, ACCOUNTS))
    run(session, write_csv(tmp_path, OPPORTUNITIES))
    assert all(rebuilds) and len(rebuilds) == 2
    assert {name: _indexes(connection, name) for name in before} == before
