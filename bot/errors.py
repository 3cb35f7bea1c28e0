"""The bot's error hierarchy: one root, keyword-only attributes, messages that say what to do."""

from __future__ import annotations


class ItBotError(Exception):
    """Root of every error the bot raises on purpose."""


class SettingsError(ItBotError):
    """A setting is missing or has a bad value; ``str()`` is one line naming the variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable} {problem}")
        self.variable = variable
        self.problem = problem


class StorageError(ItBotError):
    """The database could not be reached or migrated."""


class UnknownUser(ItBotError):
    """The person is not staff of either council (no email, or a domain we do not serve)."""
