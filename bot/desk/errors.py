"""Desk errors: messages say what the person can do instead."""

from __future__ import annotations

from bot.errors import ItBotError


class DeskError(ItBotError):
    """Root of the desk's errors."""


class NotAllowed(DeskError):
    """The person may not do this (not an agent, not their ticket, too late to reopen)."""


class InvalidChange(DeskError):
    """The change does not make sense (unknown priority, ticket already closed, ...)."""


class TicketNotFound(DeskError):
    """No ticket with that reference (or not one this person may see)."""
