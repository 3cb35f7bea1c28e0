"""External service desks our tickets are mirrored into: one Protocol, one module per vendor.

* :mod:`.base` – :class:`ServiceDesk`, the data classes and the error hierarchy;
* :mod:`.rt` – Request Tracker 5 (REST2), :mod:`.jira` – Jira Service Management Cloud,
  :mod:`.servicenow` – ServiceNow incidents (Table API);
* :mod:`.http` – the shared aiohttp plumbing and the signed-webhook format.

Example::

    from integrations.servicedesk import RequestTracker, TicketDraft

    desk = RequestTracker(base_url="https://rt.example.org", username="itbot", token="1-2-…")
    ticket = await desk.create(TicketDraft(reference="JSD-000123", subject="No email", ...))
    await desk.aclose()
"""

from .base import (
    TICKET_STATUSES,
    CommentDraft,
    DeskAuthError,
    DeskRejected,
    DeskUnavailable,
    Priority,
    RemoteChange,
    RemoteTicket,
    ServiceDesk,
    ServiceDeskError,
    TicketDraft,
    TicketNotFound,
    TicketStatus,
    WebhookRejected,
)
from .jira import JiraServiceManagement
from .rt import RequestTracker
from .servicenow import ServiceNow

__all__ = [
    "TICKET_STATUSES",
    "CommentDraft",
    "DeskAuthError",
    "DeskRejected",
    "DeskUnavailable",
    "JiraServiceManagement",
    "Priority",
    "RemoteChange",
    "RemoteTicket",
    "RequestTracker",
    "ServiceDesk",
    "ServiceDeskError",
    "ServiceNow",
    "TicketDraft",
    "TicketNotFound",
    "TicketStatus",
    "WebhookRejected",
]
