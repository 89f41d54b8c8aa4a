"""Imports the demo seeder of every domain so they register (see tracker.demo)."""
