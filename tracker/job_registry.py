"""Imports every domain's jobs module so the jobs register (see tracker.jobs)."""

import tracker.dashboard.jobs  # noqa: F401, E402
