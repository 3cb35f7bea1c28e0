"""Request Tracker 5 through its REST2 API (``/REST/2.0``).

``RequestTracker(...)`` parameters (all keyword-only):

* ``base_url`` – RT's root, as people browse it (``https://rt.example.org`` or
  ``https://example.org/rt``); REST2 is under ``{base_url}/REST/2.0``.
* ``username`` – the RT user the bot acts as; its own actions are never reported back.
* ``token`` – an RT auth token of that user (RT ▸ Logged in as ▸ Settings ▸ Auth Tokens),
  sent as ``Authorization: token …``; or ``password`` for HTTP basic auth. One is required.
* ``queue`` – the queue new tickets go to (name or id), default ``General``.
* ``reference_field`` – the ticket custom field holding our reference (``ITBot Reference``).
* ``comment_key_field`` – the transaction custom field holding each comment's key
  (``ITBot Comment Key``).
* ``webhook_secret`` – shared secret of the webhook scrip (optional; without it
  :meth:`parse_webhook` rejects everything and polling is the only sync).
* ``statuses`` – our status → RT status, overriding :data:`TO_RT` for custom lifecycles.
* ``timeout`` – seconds for one HTTP request, default 10.

Idempotency: our reference is stored in the ticket custom field ``reference_field`` in the
same create call (RT applies custom fields inside its create transaction), and ``create``
searches it with TicketSQL first. Comments carry their key in the transaction custom field
``comment_key_field``; ``add_comment`` searches it with TransactionSQL first.

Statuses (default lifecycle): new↔new, open↔open, pending↔stalled, resolved↔resolved,
closed→resolved (RT has no closed; resolved is its end state), rejected/deleted→closed;
any other status of a custom lifecycle reads as open.

RT set-up, once, by an RT admin (``tests/servicedesk/rt_server.py`` does all of it with
``rt-setup-database --action insert``; its initialdata is a ready-made recipe):

1. a user for the bot, with ``SeeQueue ShowTicket CreateTicket ModifyTicket ReplyToTicket
   CommentOnTicket ShowTicketComments SeeCustomField ModifyCustomField`` on the queue(s)
   and an auth token;
2. a ticket custom field ``ITBot Reference`` (Enter one value) and a transaction custom
   field ``ITBot Comment Key`` (Enter one value), both applied to the queue(s);
3. optionally, for push instead of polling, a scrip that POSTs the signed JSON events of
   :func:`integrations.servicedesk.http.parse_signed_webhook` (``id`` = transaction id).

RT has no webhooks of its own, so the scrip in the test fixture is the reference sender.
The bot files tickets as itself; the requester's name and email are in the description,
and the bot relays public replies to them, so RT need not email them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any, Final
from urllib.parse import quote

from .base import (
    CommentDraft,
    DeskAuthError,
    DeskRejected,
    Priority,
    RemoteChange,
    RemoteTicket,
    TicketDraft,
    TicketNotFound,
    TicketStatus,
    comment_text,
    describe,
    titled,
)
from .http import DeskHttp, basic_auth, parse_signed_webhook, parse_time

log = logging.getLogger(__name__)

TO_RT: Final[Mapping[TicketStatus, str]] = {
    "new": "new",
    "open": "open",
    "pending": "stalled",
    "resolved": "resolved",
    "closed": "resolved",
}
FROM_RT: Final[Mapping[str, TicketStatus]] = {
    "new": "new",
    "open": "open",
    "stalled": "pending",
    "resolved": "resolved",
    "rejected": "closed",
    "deleted": "closed",
}
RT_PRIORITY: Final[Mapping[Priority, int]] = {"P1": 100, "P2": 75, "P3": 50, "P4": 25}
_PAGE = 100
_MAX_PAGES = 50
_REST = "/REST/2.0"


class RequestTracker:
    """Mirror tickets into Request Tracker 5 (see the module docstring for set-up)."""

    name = "rt"

    def __init__(
        self,
        *,
        base_url: str,
        username: str,
        token: str | None = None,
        password: str | None = None,
        queue: str = "General",
        reference_field: str = "ITBot Reference",
        comment_key_field: str = "ITBot Comment Key",
        webhook_secret: str | None = None,
        statuses: Mapping[TicketStatus, str] | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not token and not password:
            raise ValueError("RequestTracker needs a token or a password for its user")
        self._web = base_url.rstrip("/")
        self._username = username
        self._queue = queue
        self._ref_field = reference_field
        self._key_field = comment_key_field
        self._webhook_secret = webhook_secret
        self._to_rt: dict[TicketStatus, str] = {**TO_RT, **(statuses or {})}
        self._from_rt: dict[str, TicketStatus] = dict(FROM_RT)
        for ours, theirs in (statuses or {}).items():
            self._from_rt[theirs] = ours
        auth = (
            {"Authorization": f"token {token}"} if token else basic_auth(username, password or "")
        )
        self._http = DeskHttp(desk=self.name, base_url=self._web, headers=auth, timeout=timeout)
        self._checked = False
        self._real_names: dict[str, str] = {}

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- tickets ---------------------------------------------------------------------------

    async def create(self, draft: TicketDraft) -> RemoteTicket:
        existing = await self.find(draft.reference)
        if existing is not None:
            log.info("rt: %s is already ticket %s", draft.reference, existing.remote_id)
            return existing
        body = {
            "Queue": self._queue,
            "Subject": titled(draft),
            "Content": describe(draft),
            "ContentType": "text/plain",
            "Priority": RT_PRIORITY.get(draft.priority, 50),
            "CustomFields": {self._ref_field: draft.reference},
        }
        data = await self._http.request("POST", f"{_REST}/ticket", json_body=body)
        with self._http.parsing("the new ticket"):
            remote_id = str(data["id"])
        log.info("rt: filed %s as ticket %s", draft.reference, remote_id)
        return await self.fetch(remote_id)

    async def find(self, reference: str) -> RemoteTicket | None:
        await self._check_setup()
        items = await self._search(
            "tickets",
            f"CF.{{{self._ref_field}}} = {_q(reference)}",
            fields="Subject,Status,LastUpdated,CustomFields",
            limit=1,
        )
        return self._ticket(items[0]) if items else None

    async def fetch(self, remote_id: str) -> RemoteTicket:
        return self._ticket(await self._raw_ticket(remote_id))

    async def _raw_ticket(self, remote_id: str) -> Any:
        if not remote_id.isdigit():
            raise TicketNotFound(
                f"{remote_id!r} is not an RT ticket id", desk=self.name, remote_id=remote_id
            )
        return await self._http.request("GET", f"{_REST}/ticket/{remote_id}", not_found=remote_id)

    def _ticket(self, data: Any) -> RemoteTicket:
        with self._http.parsing("a ticket"):
            remote_id = str(data["id"])
            reference = None
            for field in data.get("CustomFields") or []:
                if field.get("name") == self._ref_field and field.get("values"):
                    reference = str(field["values"][0])
            return RemoteTicket(
                remote_id=remote_id,
                display_id=remote_id,
                reference=reference,
                status=self._status(str(data["Status"])),
                url=f"{self._web}/Ticket/Display.html?id={remote_id}",
                updated_at=parse_time(self.name, str(data["LastUpdated"])),
            )

    def _status(self, rt_status: str) -> TicketStatus:
        return self._from_rt.get(rt_status, "open")

    async def set_status(self, remote_id: str, status: TicketStatus) -> None:
        target = self._to_rt[status]
        current = await self._raw_ticket(remote_id)
        if current.get("Status") == target:
            return
        said = await self._http.request(
            "PUT", f"{_REST}/ticket/{remote_id}", json_body={"Status": target},
            not_found=remote_id,
        )  # fmt: skip
        after = await self._raw_ticket(remote_id)
        if after.get("Status") != target:
            raise DeskRejected(
                f"RT did not move ticket {remote_id} to {target!r}: {said}; check the "
                "queue's lifecycle allows it and the bot's user has ModifyTicket",
                desk=self.name,
            )

    # -- comments --------------------------------------------------------------------------

    async def add_comment(self, remote_id: str, comment: CommentDraft) -> None:
        await self._check_setup()
        await self._raw_ticket(remote_id)  # TicketNotFound rather than RT's 400
        already = await self._search(
            "transactions",
            f"ObjectType = 'RT::Ticket' AND ObjectId = {int(remote_id)} "
            f"AND CF.{{{self._key_field}}} = {_q(comment.key)}",
            fields="Type",
            limit=1,
        )
        if already:
            log.info("rt: comment %s is already on ticket %s", comment.key, remote_id)
            return
        kind = "correspond" if comment.public else "comment"
        await self._http.request(
            "POST",
            f"{_REST}/ticket/{remote_id}/{kind}",
            json_body={
                "Content": comment_text(comment),
                "ContentType": "text/plain",
                "TxnCustomFields": {self._key_field: comment.key},
            },
            not_found=remote_id,
        )

    # -- sync back -------------------------------------------------------------------------

    async def changes_since(self, since: datetime) -> list[RemoteChange]:
        when = _rt_time(since)
        tickets = await self._search(
            "tickets",
            f"CF.{{{self._ref_field}}} IS NOT NULL AND LastUpdated >= '{when}'",
            fields="Status,LastUpdated,CustomFields",
        )
        references = {t.remote_id: t.reference for t in map(self._ticket, tickets)}
        transactions: list[Any] = []
        ids = sorted(references, key=int)
        for start in range(0, len(ids), 50):
            objects = " OR ".join(f"ObjectId = {i}" for i in ids[start : start + 50])
            transactions += await self._search(
                "transactions",
                f"ObjectType = 'RT::Ticket' AND ({objects}) AND Created >= '{when}' "
                f"AND Creator != {_q(self._username)} "
                "AND (Type = 'Correspond' OR Type = 'Comment' OR Type = 'Status')",
                fields="Type,Created,Creator,ObjectId,NewValue",
            )
        bodies = await self._bodies(
            [str(t["id"]) for t in transactions if t.get("Type") != "Status"]
        )
        changes = []
        with self._http.parsing("a transaction"):
            for txn in transactions:
                remote_id, txn_id = str(txn["ObjectId"]), str(txn["id"])
                is_status = txn["Type"] == "Status"
                changes.append(
                    RemoteChange(
                        remote_id=remote_id,
                        reference=references.get(remote_id),
                        kind="status" if is_status else "comment",
                        at=parse_time(self.name, str(txn["Created"])),
                        change_id=f"rt:{'status' if is_status else 'comment'}:{txn_id}",
                        status=self._status(str(txn["NewValue"])) if is_status else None,
                        body=None if is_status else bodies.get(txn_id, ""),
                        author=await self._real_name(str(txn["Creator"]["id"])),
                        public=None if is_status else txn["Type"] == "Correspond",
                    )
                )
        changes.sort(key=lambda c: (c.at, int(c.change_id.rsplit(":", 1)[1])))
        return changes

    async def _bodies(self, transaction_ids: list[str]) -> dict[str, str]:
        """The text of each transaction's message (text/plain preferred, else HTML)."""
        found: dict[str, tuple[int, str]] = {}
        for start in range(0, len(transaction_ids), 100):
            chunk = [int(i) for i in transaction_ids[start : start + 100]]
            query = [{"field": "TransactionId", "operator": "IN", "value": chunk}]
            items = await self._search(
                "attachments", json.dumps(query), fields="TransactionId,ContentType,Content"
            )
            for item in items:
                ctype = str(item.get("ContentType") or "").split(";")[0].strip().lower()
                rank = {"text/plain": 2, "text/html": 1}.get(ctype, 0)
                content = item.get("Content")
                txn = str(item.get("TransactionId"))
                if rank and isinstance(content, str) and rank > found.get(txn, (0, ""))[0]:
                    text = content if rank == 2 else _html_to_text(content)
                    found[txn] = (rank, text.strip())
        return {txn: text for txn, (_, text) in found.items()}

    async def _real_name(self, username: str) -> str:
        if username not in self._real_names:
            try:
                user = await self._http.request("GET", f"{_REST}/user/{quote(username, safe='')}")
            except (DeskAuthError, DeskRejected):  # the bot may not see other users
                user = None
            real = user.get("RealName") if isinstance(user, dict) else None
            self._real_names[username] = str(real or username)
        return self._real_names[username]

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[RemoteChange]:
        """Events from the RT scrip (``id`` = transaction id, ``status`` = RT status)."""
        return parse_signed_webhook(
            desk=self.name,
            secret=self._webhook_secret,
            headers=headers,
            body=body,
            to_status=self._status,
            bot_user=self._username,
        )

    # -- plumbing --------------------------------------------------------------------------

    async def _search(
        self, collection: str, query: str, *, fields: str, limit: int | None = None
    ) -> list[Any]:
        items: list[Any] = []
        per_page = min(limit or _PAGE, _PAGE)
        for page in range(1, _MAX_PAGES + 1):
            params = {
                "query": query,
                "fields": fields,
                "page": str(page),
                "per_page": str(per_page),
                "orderby": "id",
                "order": "ASC",
            }
            data = await self._http.request("GET", f"{_REST}/{collection}", params=params)
            with self._http.parsing(f"a {collection} search"):
                batch = list(data["items"])
            items += batch
            if len(batch) < per_page or (limit is not None and len(items) >= limit):
                break
        return items[:limit] if limit is not None else items

    async def _check_setup(self) -> None:
        """Fail clearly (not silently) when the custom fields aren't there: RT ignores
        unknown custom fields on create and matches nothing when searching them."""
        if self._checked:
            return
        data = await self._http.request("GET", f"{_REST}/queue/{quote(self._queue, safe='')}")
        with self._http.parsing("the queue"):
            ticket_fields = {f["name"] for f in data.get("TicketCustomFields") or []}
            txn_fields = {f["name"] for f in data.get("TicketTransactionCustomFields") or []}
        missing = []
        if self._ref_field not in ticket_fields:
            missing.append(f"ticket custom field {self._ref_field!r}")
        if self._key_field not in txn_fields:
            missing.append(f"transaction custom field {self._key_field!r}")
        if missing:
            raise DeskRejected(
                f"RT queue {self._queue!r} lacks the {' and the '.join(missing)} that the bot "
                "uses to avoid duplicates, or the bot's user may not see them; create them "
                "(Enter one value), apply them to the queue and grant SeeCustomField and "
                "ModifyCustomField",
                desk=self.name,
            )
        self._checked = True


def _q(value: str) -> str:
    """A quoted TicketSQL/TransactionSQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _rt_time(since: datetime) -> str:
    """A TicketSQL time RT reads as UTC whatever the bot user's time zone."""
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class _Text(HTMLParser):
    _BREAKS = frozenset({"br", "p", "div", "li", "tr", "blockquote", "h1", "h2", "h3"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
