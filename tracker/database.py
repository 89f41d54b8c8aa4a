"""Migrations (Alembic) run from code: ``tracker db upgrade`` and the tests use these."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine

from tracker.config import ROOT

MIGRATIONS = ROOT / "migrations"


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def ensure_sqlite_dir(url: str) -> None:
    """Create the SQLite file's folder (0700) and the file itself (0600), owner only.

    The file holds password hashes, ID numbers and phones; SQLite gives its
    ``-wal`` and ``-shm`` companions the same mode as the database file.
    """
    if url.startswith("sqlite:///") and ":memory:" not in url:
        path = Path(url.removeprefix("sqlite:///"))
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def upgrade(url: str, connection: Connection | None = None, revision: str = "heads") -> None:
    """Apply every migration (all branch heads)."""
    ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url, connection), revision)


def drift(engine: Engine) -> list[object]:
    """Differences between the models and the migrated database (empty = in sync)."""
    from tracker.domain import import_models
    from tracker.models import Base

    import_models()

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))
