"""Composition roots: the `fantasy` command line (and, later, the API and the lifecycle worker)."""
