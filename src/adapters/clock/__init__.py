"""Clocks: the system's, and one that tests and the demo move by hand."""

from adapters.clock.clocks import ControllableClock, SystemClock

__all__ = ["ControllableClock", "SystemClock"]
