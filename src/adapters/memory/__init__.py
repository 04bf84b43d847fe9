"""In-memory repository and unit of work with real transaction semantics."""

from adapters.memory.store import MemoryStore, MemoryUnitOfWork, SimulatedCrash

__all__ = ["MemoryStore", "MemoryUnitOfWork", "SimulatedCrash"]
