"""The desk announces channel-neutral events; Slack keeps its own table.

Revision ID: 0008
Revises: 0007

- ``desk_outbox.destination``: each row is one desk event (``ticket_created``,
  ``comment_added``, ``status_changed``, …) for one subscribed listener (``requester``,
  ``slack``, ``external``). Rows written under the old Slack- and desk-specific kinds are
  renamed to the event and destination that now deliver them, so nothing waiting in the
  outbox is lost across the upgrade.
- ``tickets.triage`` (where a ticket's Slack triage message is) goes: the Slack
  channel's ``slack_ticket_threads`` table already records it (``kind = 'triage'``);
  a ticket whose message is only in the column gets its row there first.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

#: old kind -> (event, destination)
RENAMED = {
    "triage_post": ("ticket_created", "slack"),
    "triage_update": ("ticket_changed", "slack"),
    "relay_to_agents": ("comment_added", "slack"),
    "sla_alert": ("sla_alert", "slack"),
    "ask_csat": ("csat_requested", "requester"),
    "external_create": ("ticket_created", "external"),
    "external_comment": ("comment_added", "external"),
    "external_status": ("status_changed", "external"),
}
#: notify_requester's ``event`` -> the event that now carries it
NOTIFIED = {"comment": "comment_added", "assigned": "ticket_assigned", "status": "status_changed"}

outbox = sa.table(
    "desk_outbox",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("destination", sa.String),
    sa.column("payload", sa.JSON),
)


def _payload(value: Any) -> dict[str, Any]:
    if isinstance(value, str):  # SQLite hands JSON back as text through a plain table()
        value = json.loads(value)
    return dict(value or {})


def upgrade() -> None:
    with op.batch_alter_table("desk_outbox") as batch:
        batch.add_column(sa.Column("destination", sa.String(32), nullable=False, server_default=""))
    for old, (kind, destination) in RENAMED.items():
        op.execute(
            outbox.update().where(outbox.c.kind == old).values(kind=kind, destination=destination)
        )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(outbox.c.id, outbox.c.payload).where(outbox.c.kind == "notify_requester")
    ).all()
    for row_id, raw in rows:
        payload = _payload(raw)
        event = NOTIFIED.get(str(payload.pop("event", "")), "ticket_changed")
        if event == "comment_added":
            payload.setdefault("role", "agent")
            payload.setdefault("public", True)
        bind.execute(
            outbox.update()
            .where(outbox.c.id == row_id)
            .values(kind=event, destination="requester", payload=payload)
        )

    tickets = sa.table("tickets", sa.column("id", sa.Integer), sa.column("triage", sa.JSON))
    threads = sa.table(
        "slack_ticket_threads",
        sa.column("ticket_id", sa.Integer),
        sa.column("channel", sa.String),
        sa.column("ts", sa.String),
        sa.column("kind", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    known = {
        (channel, ts)
        for channel, ts in bind.execute(sa.select(threads.c.channel, threads.c.ts)).all()
    }
    for ticket_id, raw in bind.execute(sa.select(tickets.c.id, tickets.c.triage)).all():
        where = _payload(raw)
        channel, ts = str(where.get("channel") or ""), str(where.get("ts") or "")
        if channel and ts and (channel, ts) not in known:
            bind.execute(
                threads.insert().values(
                    ticket_id=ticket_id,
                    channel=channel,
                    ts=ts,
                    kind="triage",
                    created_at=sa.func.current_timestamp(),
                )
            )
            known.add((channel, ts))
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("triage")


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("triage", sa.JSON, nullable=False, server_default="{}"))
    with op.batch_alter_table("desk_outbox") as batch:
        batch.drop_column("destination")
