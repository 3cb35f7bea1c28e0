"""Outage alerts in the agents' triage channel, with "Publish notice" on each.

When a triage channel is configured Slack subscribes to the desk's ``outage_spike``
event (:func:`subscribe`): the alert names the product, the councils and the reports
grouped under it, once per spike. "Publish notice" is an agent's control like Claim
(:meth:`bot.channels.slack.controls.AgentActions.handle`): it publishes the notice the
dashboard would offer (:func:`bot.flows.notices.draft_for`), which agents can edit or end
on ``/desk/notices``.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.slack import jobs
from bot.channels.slack.threads import esc, local_time
from bot.desk.events import OUTAGE_SPIKE, Events
from bot.desk.outage_tables import OutageSpike
from bot.desk.outbox import Handler, Skip
from bot.desk.service import Desk
from bot.desk.tickets import OutboxMessage, Ticket
from bot.settings import Settings

DESTINATION = "slack"
#: the control's verb (after ``itbot:triage:``); its value is ``spike:<id>``
PUBLISH = "publish_notice"
SPIKE_PREFIX = "spike:"
#: reports listed in the alert (the rest are counted)
SHOWN = 10


def subscribe(events: Events, settings: Settings) -> None:
    """Slack's subscription to outage alerts, when it has a triage channel to post to."""
    if settings.slack_enabled and settings.slack_triage_channel:
        events.subscribe(DESTINATION, OUTAGE_SPIKE)


class OutageAlerts:
    """The ``slack`` destination's handler for ``outage_spike``: one alert per spike."""

    def __init__(self, *, settings: Settings, desk: Desk, client: AsyncWebClient) -> None:
        self.settings = settings
        self.desk = desk
        self.client = client
        self.channel = settings.slack_triage_channel

    def handlers(self) -> dict[str, Handler]:
        return {OUTAGE_SPIKE: self.post}

    async def post(self, session: AsyncSession, row: OutboxMessage) -> None:
        spike_id = row.payload.get("spike_id")
        spike = await self.desk.spikes.get(session, spike_id) if isinstance(spike_id, int) else None
        if spike is None:
            raise Skip("the spike no longer exists")
        if self.channel is None:
            raise Skip("no triage channel is configured (ITBOT_SLACK_TRIAGE_CHANNEL)")
        tickets = await self.desk.spikes.tickets(session, spike.id)
        await self.client.chat_postMessage(
            channel=self.channel, **self.message(spike, tickets), unfurl_links=False
        )

    def message(self, spike: OutageSpike, tickets: list[Ticket]) -> dict[str, Any]:
        """The alert: what, since when, which councils, the reports; Publish notice."""
        about = " and ".join(spike.products) or spike.category
        councils = ", ".join(self._council(c) for c in spike.councils)
        people = len({t.requester_id for t in tickets})
        head = (
            f":rotating_light: *Possible outage: {esc(about)}* · {people} people since "
            f"{local_time(spike.first_at)} · {esc(councils)}"
        )
        lines = [
            f"• <{self.settings.base_url}/desk/tickets/{t.ref}|{t.ref}> {esc(t.summary[:120])}"
            for t in tickets[:SHOWN]
        ]
        if len(tickets) > SHOWN:
            lines.append(f"• and {len(tickets) - SHOWN} more")
        publish = {
            "type": "button",
            "action_id": f"{jobs.TRIAGE_ACTION_PREFIX}{PUBLISH}",
            "text": {"type": "plain_text", "text": "Publish notice"},
            "value": f"{SPIKE_PREFIX}{spike.id}",
            "style": "primary",
        }
        edit = {
            "type": "button",
            "action_id": f"{jobs.TRIAGE_ACTION_PREFIX}edit_notice",
            "text": {"type": "plain_text", "text": "Edit on the dashboard"},
            "url": f"{self.settings.base_url}/desk/notices",
        }
        blocks = [
            {"type": "section", "text": {"type": "mrkdwn", "text": head}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
            {
                "type": "actions",
                "block_id": f"{SPIKE_PREFIX}{spike.id}",
                "elements": [publish, edit],
            },
        ]
        text = f"Possible outage: {esc(about)} ({people} people, {esc(councils)})"
        return {"text": text, "blocks": blocks}

    def _council(self, key: str) -> str:
        try:
            return self.settings.council(key).name
        except KeyError:
            return key
