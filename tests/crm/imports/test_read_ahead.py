"""A large file read ahead by a second process: the same outcome, problems and records as read in the
importing process; a file refused half-way, a reader that dies and an import that stops early each end
cleanly, with nothing written and no process left behind."""

import os
import signal

import pytest
from sqlalchemy import select

from ecoops.actors import SYSTEM
from ecoops.crm.imports import read_ahead, service
from ecoops.crm.imports.formats import ImportFileError
from ecoops.crm.imports.reader import examine
from ecoops.crm.imports.records import BUILDERS, ROW_BATCH
from ecoops.crm.imports.values import DateOrder
from ecoops.crm.models import ImportRejection, Opportunity
from tests.crm.imports.files import TODAY, WORKSPACE, run, snapshot, write_csv

pytestmark = pytest.mark.all_backends

HEADER = "Id,AccountId,Name,StageName,Amount,CloseDate,CreatedDate,OwnerId\n"


def _opportunities(rows: int, *, bad_every: int = 997, wide_at: int | None = None) -> str:
    """`rows` opportunities over several batches: quoted line breaks, a refused amount every `bad_every`
    rows, and at `wide_at` a row with more cells than any file may have."""
    lines = [HEADER]
    for n in range(rows):
        if n == wide_at:
            lines.append("x," * 2500 + "x\n")
            continue
        amount = "lots" if n % bad_every == 5 else f"{n * 3 % 100000}.{n % 100:02d}"
        name = f'"Deal {n}\nsecond line"' if n % 101 == 0 else f"Deal {n}"
        lines.append(
            f"006A{n:011d}AAA,001A{n % 500:011d}AAA,{name},Prospecting,{amount},2025-03-31,"
            f"2025-01-02T10:00:00.000Z,Owner {n % 7}\n"
        )
    return "".join(lines)


def _stored(session) -> list[tuple[object, ...]]:
    o = Opportunity.__table__
    return sorted(session.execute(select(*[c for c in o.c if c.name != "id"])).all(), key=repr)


def _import_both_ways(session, path, monkeypatch, **request):
    """The file imported in process (then rolled back), then read ahead: both outcomes and stored rows."""
    results = []
    for threshold in (10**12, 0):
        monkeypatch.setattr(service, "READ_AHEAD_MIN_BYTES", threshold)
        nested = session.begin_nested()
        outcome = run(session, path, **request)
        stored = _stored(session)
        r = ImportRejection
        rejections = sorted(session.execute(select(r.line, r.field, r.message)).all())
        results.append((outcome, stored, rejections))
        nested.rollback()
    return results


def test_a_file_read_ahead_gives_what_reading_it_in_process_gives(session, tmp_path, monkeypatch):
    path = write_csv(tmp_path, _opportunities(3 * ROW_BATCH + 123))
    read = []
    original = read_ahead.ReadAhead.batches

    def counted(self, builder):
        for item in original(self, builder):
            read.append(item[0])
            yield item

    monkeypatch.setattr(read_ahead.ReadAhead, "batches", counted)
    (alone, stored_alone, refused_alone), (ahead, stored_ahead, refused_ahead) = _import_both_ways(
        session, path, monkeypatch, accept_valid=True
    )
    assert read == [ROW_BATCH, ROW_BATCH, ROW_BATCH, 123]  # the second way did read ahead
    fields = ("status", "rows", "new", "updated", "unchanged", "rejected")
    assert [getattr(ahead, f) for f in fields] == [getattr(alone, f) for f in fields]
    assert alone.rows == 3 * ROW_BATCH + 123 and alone.rejected == 16 and alone.new == alone.rows - 16
    assert ahead.problems == alone.problems and refused_ahead == refused_alone and len(refused_alone) == 16
    assert stored_ahead == stored_alone and len(stored_alone) == alone.new


def test_progress_is_told_as_the_reader_goes_and_ends_at_the_files_size(session, tmp_path, monkeypatch):
    path = write_csv(tmp_path, _opportunities(2 * ROW_BATCH + 10))
    monkeypatch.setattr(service, "READ_AHEAD_MIN_BYTES", 0)
    told: list[int] = []
    service.run_import(
        session,
        SYSTEM,
        path,
        filename=path.name,
        request=service.ImportRequest(),
        workspace=WORKSPACE,
        today=TODAY,
        progress=told.append,
    )
    size = path.stat().st_size
    assert len(told) == 4 and told == sorted(told) and 0 < told[0] < size and told[-1] == size


def test_a_file_refused_half_way_by_the_reader_writes_nothing(session, connection, tmp_path, monkeypatch):
    path = write_csv(tmp_path, _opportunities(2 * ROW_BATCH + 10, wide_at=ROW_BATCH + 7))
    before = snapshot(connection)
    messages = []
    for threshold in (10**12, 0):
        monkeypatch.setattr(service, "READ_AHEAD_MIN_BYTES", threshold)
        with pytest.raises(ImportFileError) as refused, session.begin_nested():
            run(session, path)
        messages.append(str(refused.value))
    assert messages[0] == messages[1]
    assert "export.csv: line" in messages[0] and "2,501 columns" in messages[0]
    assert snapshot(connection) == before


def _read_ahead_of(path) -> tuple[read_ahead.ReadAhead, object]:
    facts = examine(path, path.name)
    header = HEADER.strip().split(",")
    inspection = service.inspect_file(
        SYSTEM,
        path,
        filename=path.name,
        request=service.ImportRequest(),
        workspace=WORKSPACE,
    )
    builder = BUILDERS[inspection.mapping.kind](inspection.mapping, header, WORKSPACE, DateOrder.MDY)
    return read_ahead.ReadAhead(facts, header), builder


def test_a_reader_that_dies_is_an_error_naming_the_file(tmp_path):
    path = write_csv(tmp_path, _opportunities(6 * ROW_BATCH))
    source, builder = _read_ahead_of(path)
    batches = source.batches(builder)
    next(batches)
    os.kill(source.process.pid, signal.SIGKILL)
    ended = r"export\.csv: the process reading the file ended without finishing"
    with pytest.raises(RuntimeError, match=ended):
        for _ in batches:
            pass
    assert not source.process.is_alive()


def test_an_import_that_stops_early_stops_its_reader(tmp_path):
    path = write_csv(tmp_path, _opportunities(6 * ROW_BATCH))
    source, builder = _read_ahead_of(path)
    batches = source.batches(builder)
    next(batches)
    assert source.process.is_alive()
    batches.close()  # as when loading a batch fails and the exception leaves the loop
    assert not source.process.is_alive()
