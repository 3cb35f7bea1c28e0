"""Every table of the bot in one ``MetaData``, for Alembic and the schema tests.

Tables live with the code that owns them: people, conversations, audit and kept
notifications here in storage; tickets, comments, events, the outbox, approvals and the
agents' dashboard logins in the desk; hashed one-time codes and resets in access;
Slack's ticket threads, approval messages and inbox, the email channel's mail, and the
web chat's sessions and OIDC sign-ins under way, beside them in storage (channels build
no SQL); the demo directory's table with its adapter in ``integrations/identity/demo.py``,
on its own ``MetaData`` (integrations never import the bot). This is the one module that
imports them all; nothing else in storage imports the desk.
"""

from __future__ import annotations

import bot.access.tables
import bot.desk.accounts
import bot.desk.activity
import bot.desk.approvals
import bot.desk.outage_tables
import bot.desk.tickets
import bot.storage.email_mail
import bot.storage.notifications
import bot.storage.slack_approvals
import bot.storage.slack_threads
import bot.storage.teams_conversations
import bot.storage.teams_threads
import bot.storage.web_oidc
import bot.storage.web_sessions  # noqa: F401 - registers each module's tables
from bot.storage.models import Base
from integrations.identity import demo

metadata = Base.metadata
#: what Alembic compares the database with: the bot's tables and the demo directory's
every_metadata = (metadata, demo.METADATA)

__all__ = ["every_metadata", "metadata"]
