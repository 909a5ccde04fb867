"""Bulk paths: parsed records and refused rows go to temporary tables, then set-based SQL does the rest.

Loading uses each database's fast path on the caller's own connection (so it stays inside the
caller's transaction): `executemany` on SQLite, `COPY` on PostgreSQL. Duplicates, counts (new /
updated / unchanged) and the upsert are then single statements, the same on both backends, and
memory stays bounded however long the file is.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import groupby
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from ecoops.crm.imports.records import Problem, Record, RecordBuilder, other_lines
from ecoops.crm.models import TEXT, ImportRejection

BATCH = 10_000
SQLITE_CACHE_KIB = 128 * 1024  # page cache of the importing connection, for stored and for temporary tables
POSTGRES_WORK_MEM = "128MB"
REBUILD_MIN_ROWS = 10_000  # new records from which a load into a table no larger rebuilds its indexes
MAX_VALUE_KEPT = 1000  # characters of a refused cell kept for the report


class _BulkTable:
    """A temporary table filled in batches through the driver's fastest path."""

    def __init__(self, connection: Connection, table: Table, *, skip: int = 0) -> None:
        """`skip`: leading columns the database fills itself (a sequence)."""
        self.connection = connection
        self.table = table
        self.pending: list[Sequence[object]] = []
        self.dbapi: Any = connection.connection.dbapi_connection
        self.postgres = connection.dialect.name == "postgresql"
        loaded = list(table.columns)[skip:]
        names = ", ".join(c.name for c in loaded)
        if self.postgres:
            self.load_sql = f"COPY {table.name} ({names}) FROM STDIN"
        else:
            marks = ", ".join("?" for _ in loaded)
            self.load_sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # noqa: S608 - our names
        table.drop(connection, checkfirst=True)
        table.create(connection)

    def add(self, row: Sequence[object]) -> None:
        self.pending.append(row)
        if len(self.pending) >= BATCH:
            self.flush()

    def add_many(self, rows: Sequence[Sequence[object]]) -> None:
        self.pending.extend(rows)
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        cursor = self.dbapi.cursor()
        try:
            if self.postgres:
                with cursor.copy(self.load_sql) as copy:
                    for row in self.pending:
                        copy.write_row(row)
            else:
                cursor.executemany(self.load_sql, self.pending)
        finally:
            cursor.close()
        self.pending = []

    def drop(self) -> None:
        self.table.drop(self.connection, checkfirst=True)


class ProblemLog:
    """Every refused row's problems, kept in a temporary table so a million of them cost no memory."""

    def __init__(self, connection: Connection) -> None:
        table = Table(
            "import_stage_problems",
            MetaData(),
            Column("line", Integer),
            Column("field", String(TEXT)),
            Column("value", Text),
            Column("message", Text),
            prefixes=["TEMPORARY"],
        )
        self._bulk = _BulkTable(connection, table)
        self.table = table

    def add(self, problems: list[Problem]) -> None:
        for p in problems:
            self._bulk.add((p.line, p.field[:TEXT], p.value[:MAX_VALUE_KEPT], p.message))

    def rejected_rows(self) -> int:
        self._bulk.flush()
        return int(self._bulk.connection.scalar(select(func.count(self.table.c.line.distinct()))) or 0)

    def ordered(self, limit: int | None = None) -> Iterator[Problem]:
        self._bulk.flush()
        t = self.table
        statement = select(t.c.line, t.c.field, t.c.value, t.c.message).order_by(t.c.line, t.c.field)
        if limit is not None:
            statement = statement.limit(limit)
        for row in self._bulk.connection.execute(statement):
            yield Problem(row.line, row.field, row.value, row.message)

    def keep_for_run(self, run_id: int) -> None:
        """Copy the problems into `import_rejections` for the run's downloadable report."""
        self._bulk.flush()
        t = self.table
        columns = ["import_run_id", "line", "field", "value", "message"]
        rows = select(literal(run_id), t.c.line, t.c.field, t.c.value, t.c.message)
        self._bulk.connection.execute(insert(ImportRejection).from_select(columns, rows))

    def drop(self) -> None:
        self._bulk.drop()


class RecordStage:
    """The file's parsed records beside the stored table, compared and upserted by its key."""

    def __init__(self, connection: Connection, builder: RecordBuilder, problems: ProblemLog) -> None:
        self.cache_sizes: list[tuple[str, int]] = []  # SQLite's, as they were, given back on exit
        if connection.dialect.name == "sqlite":
            # SQLite's default 2 MB page cache thrashes on a large upsert into an indexed table.
            for schema in ("main", "temp"):
                was = int(connection.exec_driver_sql(f"PRAGMA {schema}.cache_size").scalar_one())
                self.cache_sizes.append((schema, was))
                connection.exec_driver_sql(f"PRAGMA {schema}.cache_size = -{SQLITE_CACHE_KIB}")
        else:  # room for the hash joins of the counts and the upsert, for this transaction only
            connection.exec_driver_sql(f"SET LOCAL work_mem = '{POSTGRES_WORK_MEM}'")
        self.connection = connection
        self.builder = builder
        self.problems = problems
        self.target: Table = builder.table
        self.key = builder.key
        self.columns = builder.columns
        self.compared = builder.compared
        self.stage = Table(
            "import_stage",
            MetaData(),
            Column("seq", Integer, primary_key=True, autoincrement=True),  # the order records were read
            Column("line", Integer),
            *[Column(c, self.target.c[c].type) for c in self.columns],
            prefixes=["TEMPORARY"],
        )
        self._bulk = _BulkTable(connection, self.stage, skip=1)

    def add_many(self, records: list[Record]) -> None:
        """Records prefixed by their line, as `RecordBuilder.build_batch` makes them."""
        self._bulk.add_many(records)

    def finish_loading(self) -> None:
        self._bulk.flush()
        s = self.stage
        self.connection.exec_driver_sql(
            f"CREATE INDEX import_stage_key ON {s.name} ({', '.join(self.key)}, seq)"
        )
        if self.connection.dialect.name == "postgresql":  # autovacuum never analyses temporary tables
            # The key columns are all the joins need; every column took longer than the joins themselves.
            self.connection.exec_driver_sql(f"ANALYZE {s.name} ({', '.join(self.key)})")

    def _match(self) -> Any:
        return and_(*[self.target.c[k] == self.stage.c[k] for k in self.key])

    def remove_duplicate_ids(self, id_header: str) -> None:
        """Two rows with the same CRM id cannot both be right: refuse every one of them, naming the others."""
        s = self.stage
        repeated = select(s.c.crm_id).group_by(s.c.crm_id).having(func.count() > 1)
        rows = self.connection.execute(
            select(s.c.crm_id, s.c.line).where(s.c.crm_id.in_(repeated)).order_by(s.c.crm_id, s.c.line)
        )
        found = False
        for crm_id, group in groupby(rows, key=lambda row: row.crm_id):
            found = True
            lines = [row.line for row in group]
            for line in lines:
                others = other_lines(lines, line)
                self.problems.add(
                    [Problem(line, id_header, crm_id, f"the id {crm_id} is also on line {others}")]
                )
        if found:  # the usual file has none: spare it a second pass over the stage
            self.connection.execute(delete(s).where(s.c.crm_id.in_(repeated)))

    def collapse_history(self) -> int:
        """Drop entries that repeat the opportunity's previous stage or an earlier identical entry.

        Salesforce's OpportunityHistory writes a row for every amount or close-date edit, all in the
        same stage; they are not stage changes. Returns how many entries were dropped.
        """
        s = self.stage
        before = self.staged()
        previous = func.lag(s.c.stage).over(
            partition_by=s.c.opportunity_crm_id, order_by=(s.c.changed_on, s.c.seq)
        )
        ordered = select(s.c.seq, s.c.stage, previous.label("previous")).subquery()
        repeats = select(ordered.c.seq).where(ordered.c.previous == ordered.c.stage)
        self.connection.execute(delete(s).where(s.c.seq.in_(repeats)))
        first = select(func.min(s.c.seq)).group_by(*[s.c[k] for k in self.key])
        self.connection.execute(delete(s).where(s.c.seq.not_in(first)))
        # An entry that repeats the stage the opportunity already had, as stored, before that date: an
        # amount edit read after its stage's entry (a later file, a later page of a sync).
        t = self.target
        stored_before = (
            select(t.c.stage)
            .where(t.c.opportunity_crm_id == s.c.opportunity_crm_id, t.c.changed_on < s.c.changed_on)
            .order_by(t.c.changed_on.desc(), t.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        self.connection.execute(delete(s).where(s.c.stage == stored_before))
        return before - self.staged()

    def staged(self) -> int:
        return int(self.connection.scalar(select(func.count()).select_from(self.stage)) or 0)

    def count_new_and_updated(self) -> tuple[int, int]:
        """One pass over the stage joined to the stored table: records not stored, stored ones that differ."""
        s, t = self.stage, self.target
        stored = t.c[self.key[0]]  # a key column: NULL exactly when the record is not stored
        changed = or_(*[t.c[c].is_distinct_from(s.c[c]) for c in self.compared]) if self.compared else None
        updated_count: Any = literal(0)
        if changed is not None:
            updated_count = func.count().filter(and_(stored.is_not(None), changed))
        statement = select(func.count().filter(stored.is_(None)), updated_count)
        new, updated = self.connection.execute(statement.select_from(s.outerjoin(t, self._match()))).one()
        return int(new or 0), int(updated or 0)

    def rebuilt_indexes(self, new: int) -> list[Index]:
        """The target's plain indexes, when the load is large against what is stored, else none.

        A million inserts into five B-trees cost twice what building them afresh by one sort does
        (bench/import). Only a load of at least `REBUILD_MIN_ROWS` new records that at least doubles
        the table qualifies: rebuilding a large table's indexes for a small load would cost more.
        The unique key stays (the upsert needs it); dropping and creating are inside the import's
        transaction, so a refused or failed import leaves them as they were. On PostgreSQL the drop
        locks the table against readers until the import commits: a first load, not a sync page.
        """
        if new < REBUILD_MIN_ROWS:
            return []
        stored = int(self.connection.scalar(select(func.count()).select_from(self.target)) or 0)
        return [index for index in self.target.indexes if not index.unique] if new >= stored else []

    def write(self, new: int = 0) -> None:
        """Insert the new records and update the changed ones; unchanged rows are not touched.

        `new`: how many records are new (`count_new_and_updated`), to decide on rebuilding indexes.
        """
        rebuilt = self.rebuilt_indexes(new)
        for index in rebuilt:
            index.drop(self.connection)
        self._upsert()
        for index in rebuilt:
            index.create(self.connection)

    def _upsert(self) -> None:
        s, t = self.stage, self.target
        dialect_insert = postgresql.insert if self.connection.dialect.name == "postgresql" else sqlite.insert
        # The WHERE keeps SQLite from reading ON CONFLICT as a join constraint.
        rows = select(*[s.c[c] for c in self.columns]).where(s.c.seq.is_not(None))
        statement = dialect_insert(t).from_select(list(self.columns), rows)
        if self.compared:
            excluded = statement.excluded
            statement = statement.on_conflict_do_update(
                index_elements=list(self.key),
                set_={c: excluded[c] for c in self.compared},
                where=or_(*[t.c[c].is_distinct_from(excluded[c]) for c in self.compared]),
            )
        else:
            statement = statement.on_conflict_do_nothing(index_elements=list(self.key))
        self.connection.execute(statement)

    def drop(self) -> None:
        self._bulk.drop()

    def __enter__(self) -> RecordStage:
        return self

    def __exit__(self, *exc: object) -> None:
        """Give the pooled connection its own caches back (SQLite frees the pages), the import failed or
        not: a cache size is no part of the transaction a failure rolls back."""
        for schema, size in self.cache_sizes:
            self.connection.exec_driver_sql(f"PRAGMA {schema}.cache_size = {size}")
