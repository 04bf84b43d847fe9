"""Stats-feed adapters: implementations of fantasy_core.stats.StatsFeed."""
