"""Adapters: one sub-package per implementation of a port of the core (memory, feeds, ...)."""
