"""Alembic environment: runs on the connection that ecoops.db.migrate() hands over."""

from alembic import context

from ecoops.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic` CLI use (autogenerate during development)
    from ecoops.config import get_settings
    from ecoops.db import make_engine

    connection = make_engine(get_settings().effective_database_url).connect()

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
