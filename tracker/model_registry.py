"""Imports every domain's models so that one metadata holds every table.

Alembic's env, the drift check and the tests import this module. A new domain
package adds its ``models`` module here.
"""

import tracker.dashboard.models  # noqa: F401
import tracker.halls.models  # noqa: F401
import tracker.matters.models  # noqa: F401
import tracker.meetings.models  # noqa: F401
import tracker.models  # noqa: F401
import tracker.notifications.models  # noqa: F401
import tracker.org.models  # noqa: F401
import tracker.trainings.models  # noqa: F401
