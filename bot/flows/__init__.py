"""Flows: small state machines over persisted state, registered in one registry."""

from bot.flows.base import Flow, FlowContext, FlowRegistry, State, Step


def default_registry() -> FlowRegistry:
    """Every flow the bot ships, registered once."""
    from bot.flows import answer, clarify, followup, notices, reset, smalltalk, status, tickets

    registry = FlowRegistry()
    for module in (answer, smalltalk, clarify, tickets, status, reset, followup, notices):
        module.register(registry)
    return registry


__all__ = ["Flow", "FlowContext", "FlowRegistry", "State", "Step", "default_registry"]
