"""Imports every domain's jobs module so the jobs register (see tracker.jobs)."""
