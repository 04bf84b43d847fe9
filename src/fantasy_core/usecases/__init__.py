"""Use cases: the application services that run contests, one module per family of actions."""
