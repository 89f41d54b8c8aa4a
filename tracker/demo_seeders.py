"""Imports the demo seeder of every domain so they register (see tracker.demo)."""

import tracker.halls.demo  # noqa: F401
import tracker.matters.demo  # noqa: F401
import tracker.meetings.demo  # noqa: F401
import tracker.org.demo  # noqa: F401
import tracker.trainings.demo  # noqa: F401
