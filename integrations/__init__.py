"""Adapters to systems the councils own: identity, service desks, notifications."""
