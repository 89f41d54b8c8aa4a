"""Plain rows for long lists (a page of meetings with hundreds of attendances).

Loading a list's children with ``selectinload`` makes an ORM instance per child —
identity map, attribute instrumentation, a Python object per column — when all the
list shows is a few columns. These read the same in the same single statement as
Core rows (tuples), a fraction of the work; see ``tracker.api.pagination.paginate_rows``.
Unpack a row (``for meeting_id, name, present in rows``) or index it: attribute
access on a row (``row.name``) costs as much again as the fetch.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Row, Select, bindparam

from tracker.extensions import db

# A select of any columns and one of its rows.
AnySelect = Select[*tuple[Any, ...]]
AnyRow = Row[*tuple[Any, ...]]


def fetch(stmt: AnySelect, params: dict[str, Any] | None = None) -> Sequence[AnyRow]:
    """``stmt``'s rows as Core rows, in the session's transaction and after its flush
    (``Session.execute`` would pass each row through the ORM's loading)."""
    db.session.flush()
    return db.session.connection().execute(stmt, params).all()


def rows_by(stmt: AnySelect, keys: Collection[Any]) -> defaultdict[Any, list[AnyRow]]:
    """The rows of ``stmt`` whose first column (a plain column: a parent's id) is one of
    ``keys``, grouped by it, each group in ``stmt``'s order: one statement whatever the
    number of keys (none for no keys). A key without rows gives ``[]``.

    ``rows_by(select(Attendance.meeting_id, ...).order_by(...), meeting_ids)`` is a
    page's attendance, as ``selectinload(Meeting.attendance)`` would read it. Give a
    module-level ``stmt``: its keyed form is built once and reused (no cache key to
    compute, no result map to adapt on every call)."""
    grouped: defaultdict[Any, list[AnyRow]] = defaultdict(list)
    if keys:
        for row in fetch(_keyed(stmt), {"keys": list(keys)}):
            grouped[row[0]].append(row)
    return grouped


@functools.lru_cache(maxsize=128)
def _keyed(stmt: AnySelect) -> AnySelect:
    return stmt.where(stmt.selected_columns[0].in_(bindparam("keys", expanding=True)))
