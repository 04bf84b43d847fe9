"""Player protection: who may play, the limits a player sets, breaks from play, fair-play
tiers and tax, as pure rules; their values by jurisdiction and year are data (rules.py)."""
