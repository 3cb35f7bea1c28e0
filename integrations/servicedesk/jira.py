"""Jira Service Management Cloud.

``JiraServiceManagement(...)`` parameters (all keyword-only):

* ``base_url`` – the site, ``https://councils.atlassian.net``.
* ``email`` and ``api_token`` – the bot's Atlassian account (basic auth with an API token).
* ``service_desk_id``, ``request_type_id`` – where requests are raised
  (``/rest/servicedeskapi/servicedesk`` and ``…/requesttype`` list them).
* ``project_key`` – the service project's key (``HELP``), used in JQL.
* ``reference_field`` – where our reference lives: ``labels`` (default; the request type
  must have the Labels field, it may be optional) or a text custom field id such as
  ``customfield_10050`` on the request type.
* ``account_id`` – the bot's account id; looked up with ``/rest/api/3/myself`` on first use
  when not given. Webhook comments by the bot are dropped only once it is known, so set it
  when webhooks are used.
* ``status_names`` – our status → Jira status name, overriding :data:`STATUS_NAMES`.
* ``webhook_secret`` – the secret of the admin webhook (``X-Hub-Signature`` is checked).
* ``timeout`` – seconds for one HTTP request, default 10.

Idempotency: requests are raised through ``/rest/servicedeskapi/request`` with the reference
in the same call – as the labels ``itbot`` and ``itbot-JSD-000123``, or in the custom
field – and ``create`` first searches for it with ``/rest/api/3/search/jql`` (the old
``/rest/api/3/search`` is gone from Jira Cloud). Limit: Jira's search is eventually
consistent, so a retry within a second or two of a lost create may not see it yet; the
outbox's backoff normally covers that.

Comments are added with ``/rest/api/3/issue/{key}/comment`` rather than the service desk
comment API because only the former takes entity properties: ``sd.public.comment``
(``{"internal": true}`` for an internal note) and ``itbot.comment`` holding the comment key,
which ``add_comment`` looks for before posting.

Statuses: set by transitioning to the configured status name; read back by name
(case-insensitive, with the usual JSM names) or else by status category (To Do → new,
In Progress → open, Done → resolved). The bot raises requests as itself; the requester's
name and email are in the description and the bot relays public comments to them.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from .adf import adf_text, to_adf
from .base import (
    CommentDraft,
    DeskRejected,
    RemoteChange,
    RemoteTicket,
    TicketDraft,
    TicketNotFound,
    TicketStatus,
    comment_text,
    describe,
    titled,
)
from .http import DeskHttp, basic_auth, header, parse_json_body, parse_time, verify_signature

log = logging.getLogger(__name__)

STATUS_NAMES: Final[Mapping[TicketStatus, str]] = {
    "new": "Waiting for support",
    "open": "In progress",
    "pending": "Waiting for customer",
    "resolved": "Resolved",
    "closed": "Closed",
}
_KNOWN_NAMES: Final[Mapping[str, TicketStatus]] = {
    "open": "open",
    "work in progress": "open",
    "escalated": "open",
    "pending": "pending",
    "done": "resolved",
    "canceled": "closed",
    "cancelled": "closed",
    "declined": "closed",
}
_CATEGORIES: Final[Mapping[str, TicketStatus]] = {
    "new": "new",
    "indeterminate": "open",
    "done": "resolved",
}
MARKER_LABEL = "itbot"
REF_LABEL_PREFIX = "itbot-"
COMMENT_PROPERTY = "itbot.comment"
_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-\d+$")
_SIGNATURE_HEADER = "X-Hub-Signature"


class JiraServiceManagement:
    """Mirror tickets into Jira Service Management Cloud (see the module docstring)."""

    name = "jira"

    def __init__(
        self,
        *,
        base_url: str,
        email: str,
        api_token: str,
        service_desk_id: str,
        request_type_id: str,
        project_key: str,
        reference_field: str = "labels",
        account_id: str | None = None,
        status_names: Mapping[TicketStatus, str] | None = None,
        webhook_secret: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if reference_field != "labels" and not reference_field.startswith("customfield_"):
            raise ValueError("reference_field must be 'labels' or a 'customfield_NNNNN' id")
        self._base = base_url.rstrip("/")
        self._service_desk_id = service_desk_id
        self._request_type_id = request_type_id
        self._project = project_key
        self._ref_field = reference_field
        self._account_id = account_id
        self._names: dict[TicketStatus, str] = {**STATUS_NAMES, **(status_names or {})}
        self._from_names: dict[str, TicketStatus] = dict(_KNOWN_NAMES)
        for ours, theirs in self._names.items():
            self._from_names[theirs.casefold()] = ours
        self._webhook_secret = webhook_secret
        self._http = DeskHttp(
            desk=self.name,
            base_url=self._base,
            headers=basic_auth(email, api_token),
            timeout=timeout,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- tickets ---------------------------------------------------------------------------

    async def create(self, draft: TicketDraft) -> RemoteTicket:
        existing = await self.find(draft.reference)
        if existing is not None:
            log.info("jira: %s is already %s", draft.reference, existing.remote_id)
            return existing
        fields: dict[str, object] = {"summary": titled(draft), "description": describe(draft)}
        if self._ref_field == "labels":
            if any(c.isspace() for c in draft.reference):
                raise DeskRejected(
                    f"reference {draft.reference!r} has spaces, which Jira labels can't hold; "
                    "use a custom field for the reference",
                    desk=self.name,
                )
            fields["labels"] = [MARKER_LABEL, REF_LABEL_PREFIX + draft.reference]
        else:
            fields[self._ref_field] = draft.reference
        data = await self._http.request(
            "POST",
            "/rest/servicedeskapi/request",
            json_body={
                "serviceDeskId": self._service_desk_id,
                "requestTypeId": self._request_type_id,
                "requestFieldValues": fields,
            },
        )
        with self._http.parsing("the new request"):
            key = str(data["issueKey"])
        log.info("jira: filed %s as %s", draft.reference, key)
        return await self.fetch(key)

    async def find(self, reference: str) -> RemoteTicket | None:
        if self._ref_field == "labels":
            clause = f"labels = {_jql(REF_LABEL_PREFIX + reference)}"
        else:
            clause = f"cf[{self._ref_field.removeprefix('customfield_')}] ~ {_jql(reference)}"
        issues = await self._search(
            f"project = {_jql(self._project)} AND {clause} ORDER BY created ASC", limit=20
        )
        for issue in issues:
            ticket = self._ticket(issue)
            if ticket.reference == reference:
                return ticket
        return None

    async def fetch(self, remote_id: str) -> RemoteTicket:
        self._check_key(remote_id)
        issue = await self._http.request(
            "GET",
            f"/rest/api/3/issue/{remote_id}",
            params={"fields": self._fields()},
            not_found=remote_id,
        )
        return self._ticket(issue)

    def _check_key(self, remote_id: str) -> None:
        if not _KEY.match(remote_id):
            raise TicketNotFound(
                f"{remote_id!r} is not a Jira issue key", desk=self.name, remote_id=remote_id
            )

    def _fields(self) -> str:
        return f"summary,status,labels,updated,{self._ref_field}"

    def _ticket(self, issue: Any) -> RemoteTicket:
        with self._http.parsing("an issue"):
            fields = issue["fields"]
            key = str(issue["key"])
            return RemoteTicket(
                remote_id=key,
                display_id=key,
                reference=self._reference(fields),
                status=self._status(fields["status"]),
                url=f"{self._base}/browse/{key}",
                updated_at=_time(str(fields["updated"])),
            )

    def _reference(self, fields: Any) -> str | None:
        if self._ref_field == "labels":
            for label in fields.get("labels") or []:
                if str(label).startswith(REF_LABEL_PREFIX):
                    return str(label).removeprefix(REF_LABEL_PREFIX)
            return None
        value = fields.get(self._ref_field)
        return str(value).strip() if value else None

    def _status(self, status: Any) -> TicketStatus:
        name = str(status.get("name") or "").casefold()
        if name in self._from_names:
            return self._from_names[name]
        category = str((status.get("statusCategory") or {}).get("key") or "")
        return _CATEGORIES.get(category, "open")

    async def set_status(self, remote_id: str, status: TicketStatus) -> None:
        target = self._names[status]
        self._check_key(remote_id)
        issue = await self._http.request(
            "GET", f"/rest/api/3/issue/{remote_id}", params={"fields": "status"},
            not_found=remote_id,
        )  # fmt: skip
        with self._http.parsing("an issue"):
            current = str(issue["fields"]["status"]["name"])
        if current.casefold() == target.casefold():
            return
        data = await self._http.request(
            "GET", f"/rest/api/3/issue/{remote_id}/transitions", not_found=remote_id
        )
        with self._http.parsing("the transitions"):
            transitions = list(data["transitions"])
            ids = [t["id"] for t in transitions if t["to"]["name"].casefold() == target.casefold()]
            offered = ", ".join(sorted({str(t["to"]["name"]) for t in transitions})) or "none"
        if not ids:
            raise DeskRejected(
                f"Jira offers no transition from {current!r} to {target!r} on "
                f"{remote_id} (it offers: {offered}); adjust the workflow or the status names",
                desk=self.name,
            )
        await self._http.request(
            "POST",
            f"/rest/api/3/issue/{remote_id}/transitions",
            json_body={"transition": {"id": str(ids[0])}},
            not_found=remote_id,
        )

    # -- comments --------------------------------------------------------------------------

    async def add_comment(self, remote_id: str, comment: CommentDraft) -> None:
        await self.fetch(remote_id)
        for existing in await self._paged(remote_id, "comment", "comments", expand="properties"):
            if _property(existing, COMMENT_PROPERTY).get("key") == comment.key:
                log.info("jira: comment %s is already on %s", comment.key, remote_id)
                return
        await self._http.request(
            "POST",
            f"/rest/api/3/issue/{remote_id}/comment",
            json_body={
                "body": to_adf(comment_text(comment)),
                "properties": [
                    {"key": "sd.public.comment", "value": {"internal": not comment.public}},
                    {"key": COMMENT_PROPERTY, "value": {"key": comment.key}},
                ],
            },
            not_found=remote_id,
        )

    async def _paged(self, key: str, what: str, items: str, **params: str) -> list[Any]:
        """Every item of an offset-paged list of issue ``key`` (comments, changelog)."""
        values: list[Any] = []
        while True:
            data = await self._http.request(
                "GET",
                f"/rest/api/3/issue/{key}/{what}",
                params={"startAt": str(len(values)), "maxResults": "100", **params},
                not_found=key,
            )
            with self._http.parsing(f"the {what}"):
                batch = list(data[items])
                total = int(data.get("total", len(values) + len(batch)))
            values += batch
            if not batch or data.get("isLast") or len(values) >= total:
                return values

    # -- sync back -------------------------------------------------------------------------

    async def changes_since(self, since: datetime) -> list[RemoteChange]:
        me = await self._me()
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        # JQL reads absolute times in the account's time zone; a relative one is exact.
        minutes = math.ceil((datetime.now(UTC) - since).total_seconds() / 60) + 1
        marker = (
            f"labels = {_jql(MARKER_LABEL)}"
            if self._ref_field == "labels"
            else f"cf[{self._ref_field.removeprefix('customfield_')}] is not EMPTY"
        )
        issues = await self._search(
            f"project = {_jql(self._project)} AND {marker} "
            f'AND updated >= "-{max(minutes, 1)}m" ORDER BY updated ASC'
        )
        changes: list[RemoteChange] = []
        for issue in issues:
            ticket = self._ticket(issue)
            if ticket.reference is None:
                continue
            for history in await self._paged(ticket.remote_id, "changelog", "values"):
                with self._http.parsing("the changelog"):
                    at = _time(str(history["created"]))
                if at >= since:
                    changes += self._status_changes(ticket, history, history.get("author"), at, me)
            for comment in await self._paged(
                ticket.remote_id, "comment", "comments", expand="properties"
            ):
                change = self._comment_change(ticket, comment, me)
                if change is not None and change.at >= since:
                    changes.append(change)
        changes.sort(key=lambda c: c.at)
        return changes

    def _status_changes(
        self, ticket: RemoteTicket, history: Any, user: Any, at: datetime, me: str | None
    ) -> list[RemoteChange]:
        """The status items of one changelog entry (``[]`` when the bot made it)."""
        with self._http.parsing("a changelog entry"):
            user = user or {}
            if me is not None and user.get("accountId") == me:
                return []
            return [
                RemoteChange(
                    remote_id=ticket.remote_id,
                    reference=ticket.reference,
                    kind="status",
                    at=at,
                    change_id=f"jira:status:{history['id']}",
                    status=self._status({"name": item.get("toString")}),
                    author=user.get("displayName"),
                )
                for item in history.get("items") or []
                if item.get("field") == "status"
            ]

    def _comment_change(
        self, ticket: RemoteTicket, comment: Any, me: str | None
    ) -> RemoteChange | None:
        with self._http.parsing("a comment"):
            author = comment.get("author") or {}
            if me is not None and author.get("accountId") == me:
                return None
            if "jsdPublic" in comment:
                public = bool(comment["jsdPublic"])
            else:
                public = not _property(comment, "sd.public.comment").get("internal", False)
            body = comment.get("body")
            return RemoteChange(
                remote_id=ticket.remote_id,
                reference=ticket.reference,
                kind="comment",
                at=_time(str(comment["created"])),
                change_id=f"jira:comment:{comment['id']}",
                body=(body if isinstance(body, str) else adf_text(body)).strip(),
                author=author.get("displayName"),
                public=public,
            )

    async def _me(self) -> str:
        if self._account_id is None:
            data = await self._http.request("GET", "/rest/api/3/myself")
            with self._http.parsing("the bot's account"):
                self._account_id = str(data["accountId"])
        return self._account_id

    async def _search(self, jql: str, limit: int | None = None) -> list[Any]:
        issues: list[Any] = []
        token: str | None = None
        while True:
            params = {"jql": jql, "fields": self._fields(), "maxResults": "100"}
            if token:
                params["nextPageToken"] = token
            data = await self._http.request("GET", "/rest/api/3/search/jql", params=params)
            with self._http.parsing("a search"):
                issues += list(data["issues"])
                token = data.get("nextPageToken")
            if not token or data.get("isLast") or (limit and len(issues) >= limit):
                return issues

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[RemoteChange]:
        """Jira's admin webhooks: ``comment_created`` and status changes in
        ``jira:issue_updated``, signed ``X-Hub-Signature: sha256=…``."""
        verify_signature(
            desk=self.name,
            secret=self._webhook_secret,
            body=body,
            signature=header(headers, _SIGNATURE_HEADER),
            header_name=_SIGNATURE_HEADER,
        )
        data = parse_json_body(self.name, body)
        with self._http.parsing("a webhook"):
            event = data.get("webhookEvent")
            ticket = self._ticket(data["issue"]) if "issue" in data else None
            if ticket is None or ticket.reference is None:
                return []
            if event == "comment_created":
                change = self._comment_change(ticket, data["comment"], self._account_id)
                return [change] if change is not None else []
            if event != "jira:issue_updated":
                return []
            at = datetime.fromtimestamp(int(data["timestamp"]) / 1000, UTC)
            history = data.get("changelog") or {}
            return self._status_changes(ticket, history, data.get("user"), at, self._account_id)


def _jql(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _time(value: str) -> datetime:
    """Jira's ``2026-11-25T18:13:42.123+0000``."""
    return parse_time("jira", value)


def _property(entity: Any, key: str) -> dict[str, Any]:
    for prop in entity.get("properties") or []:
        if prop.get("key") == key and isinstance(prop.get("value"), dict):
            value: dict[str, Any] = prop["value"]
            return value
    return {}
