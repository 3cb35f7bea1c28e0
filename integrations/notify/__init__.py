"""Sending a message to a person outside the chat: one-time codes and account notices.

One :class:`~integrations.notify.base.Sender` protocol; ``ITBOT_NOTIFY`` picks the adapter
(``console``, ``file:PATH``, ``govuk-notify``, ``smtp``).
"""
