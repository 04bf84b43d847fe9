"""Helpers shared by the test suites: a whole platform wired with in-memory adapters."""
