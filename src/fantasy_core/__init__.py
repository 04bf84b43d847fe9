"""The pure domain of the contest platform: money, lifecycle, scoring, lineups, payouts, ledger."""
