"""Clocks: the system's, one that runs faster (test environments), and one that tests and
the demo move by hand."""

from adapters.clock.clocks import AcceleratedClock, ControllableClock, SystemClock

__all__ = ["AcceleratedClock", "ControllableClock", "SystemClock"]
