"""Alert sinks: collected in memory (tests) and logged (the worker)."""

from adapters.alerts.sinks import CollectedAlerts, LoggingAlerts

__all__ = ["CollectedAlerts", "LoggingAlerts"]
