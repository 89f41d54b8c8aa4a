"""Alembic environment: the URL comes from the tracker's configuration (or the
caller's ``sqlalchemy.url``), the metadata from ``tracker.models``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, inspect, pool, text

from tracker.domain import import_models
from tracker.models import Base

import_models()  # every domain's tables in one metadata

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        _run(conn)
        conn.commit()  # what the non-transactional-DDL path leaves open (the ``*`` bump)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite needs batch mode to alter tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        _invalidate_cached_pages(connection)


def _invalidate_cached_pages(connection) -> None:  # type: ignore[no-untyped-def]
    """A migration may change data the page cache's engine event never saw: bump ``*``,
    which every cached page and list depends on (tracker.pagecache)."""
    if not inspect(connection).has_table("data_version"):
        return  # downgraded below 1910_pagecache, or not there yet
    connection.execute(
        text(
            "INSERT INTO data_version (table_name, n) VALUES ('*', 1) "
            "ON CONFLICT (table_name) DO UPDATE SET n = data_version.n + 1"
        )
    )


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
