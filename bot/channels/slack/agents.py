"""Who is an agent in Slack: the agents' user group, the configured list, or the flag.

The rules of the role (who grants, who takes away) are the desk's (``bot.desk.agents``);
this module only asks Slack who is in the group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk import agents
from bot.settings import Settings
from bot.storage.models import Staff

if TYPE_CHECKING:
    from bot.storage import Database

log = logging.getLogger(__name__)


class AgentDirectory:
    """Who is a service desk agent: the Slack user group, the configured list, or the flag.

    Group membership (``usergroups.users.list``) is cached for ``ttl``. Someone found in
    the group or the list gets ``Staff.is_agent`` set (``agent_via`` says which), so the
    desk and the dashboard's assignee lists agree with Slack. Someone who was an agent
    through the group and has left it stops being one as soon as a fresh member list
    shows it: when they next act in Slack, or at the next :meth:`sync` (every ``ttl``
    while the bot runs), whichever comes first. Agents added by hand (``itbot desk
    add-agent``) are never taken off by the group.
    """

    def __init__(
        self,
        settings: Settings,
        client: AsyncWebClient,
        *,
        ttl: timedelta = timedelta(minutes=5),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.client = client
        self.ttl = ttl.total_seconds()
        self.clock = clock
        self._members: frozenset[str] = frozenset()
        self._fetched_at: float | None = None

    async def is_agent(self, session: AsyncSession, staff: Staff) -> bool:
        if staff.email in self.settings.desk_agents:
            agents.grant(staff, agents.SETTINGS)
        members, fresh = await self._group_members()
        if members is not None and staff.slack_user_id in members:
            agents.grant(staff, agents.GROUP)
        elif fresh is not None and staff.agent_via == agents.GROUP:
            await self._revoke_departed(session, members or frozenset())
        return staff.is_agent

    async def sync(self, session: AsyncSession) -> int:
        """Fetch the group's members now and take the flag off agents who have left it.

        Returns how many stopped being agents (0 when no group is configured or Slack
        can't be asked: what was known stands).
        """
        if not self.settings.slack_agent_group:
            return 0
        self._fetched_at = None
        members, fresh = await self._group_members()
        if fresh is None or members is None:
            return 0
        return await self._revoke_departed(session, members)

    async def keep_in_sync(self, db: Database, stop: asyncio.Event) -> None:
        """:meth:`sync` every ``ttl`` until ``stop`` is set (runs beside the Slack worker)."""
        while not stop.is_set():
            try:
                async with db.session() as session, session.begin():
                    await self.sync(session)
            except Exception:  # the next round tries again
                log.exception("syncing the agents' Slack user group failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.ttl)

    async def _group_members(self) -> tuple[frozenset[str] | None, float | None]:
        """The group's members (``None`` without a group) and when they were fetched
        (``None`` if never: Slack has not answered yet)."""
        group = self.settings.slack_agent_group
        if not group:
            return None, None
        now = self.clock()
        if self._fetched_at is None or now - self._fetched_at > self.ttl:
            try:
                response = await self.client.usergroups_users_list(usergroup=group)
            except SlackApiError as exc:
                # keep what we knew: a Slack hiccup must not lock every agent out
                log.warning("slack user group %s: %s", group, exc.response.get("error"))
            else:
                self._members = frozenset(str(u) for u in response.get("users") or ())
                self._fetched_at = now
        return self._members, self._fetched_at

    async def _revoke_departed(self, session: AsyncSession, members: frozenset[str]) -> int:
        listed = self.settings.desk_agents
        return await agents.revoke_departed(
            session, lambda staff: staff.slack_user_id in members or staff.email in listed
        )
