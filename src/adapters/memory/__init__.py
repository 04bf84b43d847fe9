"""In-memory repository and unit of work with real transaction semantics, and accounts."""

from adapters.memory.accounts import MemoryAccountStore
from adapters.memory.store import MemoryStore, MemoryUnitOfWork

__all__ = ["MemoryAccountStore", "MemoryStore", "MemoryUnitOfWork"]
