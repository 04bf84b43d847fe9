"""Stats-feed adapters: implementations of fantasy_core.ports.StatsFeed."""
