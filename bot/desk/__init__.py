"""The joint service desk: tickets, SLAs, agents (the built-in desk is the embedded default)."""
