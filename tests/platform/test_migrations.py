"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from ecoops.schema import metadata


@pytest.mark.all_backends
def test_migrated_schema_matches_the_models(connection):
    differences = compare_metadata(
        MigrationContext.configure(connection, opts={"compare_type": True}), metadata
    )
    assert differences == []


def test_sqlite_runs_in_wal_with_full_sync(connection):
    assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.all_backends
def test_every_table_is_created(connection):
    assert set(inspect(connection).get_table_names()) >= set(metadata.tables)
