"""Composition roots: the `fantasy` command line, the Litestar API and the lifecycle worker."""
