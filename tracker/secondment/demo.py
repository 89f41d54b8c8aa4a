"""Demo data: a batch of seconded cadres (stub until the seeder lands)."""

from __future__ import annotations

from typing import Any


def seed_secondment(world: Any) -> None:
    """Nothing yet."""
