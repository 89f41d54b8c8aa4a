"""The tracker's version (its own module, so the API document reads it without importing the app)."""

__version__ = "0.1.0"
