"""Imports every domain's jobs module so the jobs register (see tracker.jobs)."""

import tracker.dashboard.jobs  # noqa: F401, E402
import tracker.halls.jobs  # noqa: F401, E402
import tracker.matters.jobs  # noqa: F401, E402
import tracker.meetings.jobs  # noqa: F401, E402
import tracker.notifications.jobs  # noqa: F401, E402
