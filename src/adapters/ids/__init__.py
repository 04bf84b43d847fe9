"""Id sources: sequential (tests, reproducible) and time-ordered random (several processes)."""

from adapters.ids.sources import SequentialIds, TimeOrderedIds

__all__ = ["SequentialIds", "TimeOrderedIds"]
