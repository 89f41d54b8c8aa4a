"""Tests of the station monitor (monitor/)."""
