"""Ticket news in the requester's Slack DM: the Slack pusher of the requester's notifier."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.slack import jobs, threads
from bot.channels.slack.render import SlackRenderer
from bot.conversation.messages import Reply
from bot.desk.tickets import Ticket
from bot.storage import slack_threads
from bot.storage.models import Staff


class RequesterNotifier:
    """The Slack pusher for ``Notifier``: ticket news in the requester's DM.

    A notification about an agent's comment invites a reply in its thread; that thread is
    remembered so the reply reaches the agents (see :meth:`AgentActions.requester_reply`).
    """

    def __init__(
        self,
        renderer: SlackRenderer,
        client: AsyncWebClient,
        dm_channel: Callable[[str], Awaitable[str]],
    ) -> None:
        self.renderer = renderer
        self.client = client
        self.dm_channel = dm_channel

    async def __call__(
        self,
        session: AsyncSession,
        staff: Staff,
        ticket: Ticket | None,
        replies: Sequence[Reply],
        *,
        key: str,
        retry: bool,
    ) -> bool:
        if not staff.slack_user_id:
            return False  # the notifier keeps it for the person's next turn instead
        channel = await self.dm_channel(staff.slack_user_id)
        if retry and (found := await threads.delivered(self.client, channel, key)) is not None:
            # an earlier attempt sent it, then failed before recording that
            if ticket is not None:
                await slack_threads.remember(session, ticket.id, channel, found, "dm")
            return True
        shown = list(replies)
        if ticket is not None:  # news about no ticket (an approval's outcome) has no thread
            invite = "Reply in this thread to answer the service desk."
            shown = [replace(reply, notes=(*reply.notes, invite)) for reply in replies[:1]]
            shown += list(replies[1:])
        message = self.renderer.message(shown, thread=jobs.DM_THREAD)
        response = await self.client.chat_postMessage(
            channel=channel,
            text=message["text"],
            blocks=message["blocks"],
            metadata=threads.delivery(key),
            unfurl_links=False,
            unfurl_media=False,
        )
        if ticket is not None:
            await slack_threads.remember(
                session, ticket.id, str(response["channel"]), str(response["ts"]), "dm"
            )
        return True
