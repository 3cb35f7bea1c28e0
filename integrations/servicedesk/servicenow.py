"""ServiceNow incidents through the Table API (``/api/now/table``).

``ServiceNow(...)`` parameters (all keyword-only):

* ``base_url`` – the instance, ``https://councils.service-now.com``.
* ``username``, ``password`` – the bot's integration user (basic auth). It needs the
  ``itil`` role, read access to ``sys_journal_field`` and ``sys_audit`` (for comment
  idempotency and polling), and its time zone should be left at the system's (values the
  Table API returns and compares are UTC either way).
* ``assignment_group`` – sys_id of the group new incidents go to (optional).
* ``caller_id`` – sys_id of the user incidents are raised for (optional; default: the bot).
* ``resolution_code`` – ``close_code`` set when resolving or closing, default
  ``Solution provided`` (ServiceNow requires one; use a choice your instance has).
* ``webhook_secret`` – secret of the business rule that pushes changes (optional).
* ``timeout`` – seconds for one HTTP request, default 10.

Idempotency: our reference goes in the incident's ``correlation_id`` (with
``correlation_display`` = ``itbot``) in the create call itself, and ``create`` first queries
``correlation_id=<reference>``. Journal entries can't carry a key of ours, so
``add_comment`` looks for a comment or work note with the same text by the bot's user on the
incident before posting. Limit: the same text sent twice on purpose on one incident (same
author, same visibility) is kept once.

Statuses (``state``): new↔1 New, open↔2 In Progress, pending↔3 On Hold (Awaiting Caller),
resolved↔6 Resolved, closed↔7 Closed; 8 Canceled reads as closed, anything else as open.
Public comments are ``comments`` (the caller sees them), internal ones ``work_notes``.

Push: ServiceNow has no generic webhooks; an after-insert business rule on
``sys_journal_field`` and an after-update one on ``incident`` (state changes) can POST the
signed events of :func:`integrations.servicedesk.http.parse_signed_webhook`, with ``id`` =
the journal entry's sys_id for comments and ``<incident sys_id>:<sys_mod_count>`` for
state changes (polling builds the same ids from ``sys_audit.record_checkpoint``), and
``status`` = the new ``state`` value.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

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

TO_STATE: Final[Mapping[TicketStatus, str]] = {
    "new": "1",
    "open": "2",
    "pending": "3",
    "resolved": "6",
    "closed": "7",
}
FROM_STATE: Final[Mapping[str, TicketStatus]] = {
    "1": "new",
    "2": "open",
    "3": "pending",
    "6": "resolved",
    "7": "closed",
    "8": "closed",
}
# ServiceNow derives priority from impact × urgency: (1,1)→1 Critical … (2,3)→4 Low.
IMPACT_URGENCY: Final[Mapping[Priority, tuple[str, str]]] = {
    "P1": ("1", "1"),
    "P2": ("1", "2"),
    "P3": ("2", "2"),
    "P4": ("2", "3"),
}
_FIELDS = "sys_id,number,state,correlation_id,sys_updated_on"
_SYS_ID = re.compile(r"^[0-9a-f]{32}$")
_TABLE = "/api/now/table"
_PAGE = 100


class ServiceNow:
    """Mirror tickets into ServiceNow incidents (see the module docstring)."""

    name = "servicenow"

    def __init__(
        self,
        *,
        base_url: str,
        username: str,
        password: str,
        assignment_group: str | None = None,
        caller_id: str | None = None,
        resolution_code: str = "Solution provided",
        webhook_secret: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._username = username
        self._assignment_group = assignment_group
        self._caller_id = caller_id
        self._resolution_code = resolution_code
        self._webhook_secret = webhook_secret
        self._http = DeskHttp(
            desk=self.name,
            base_url=self._base,
            headers=basic_auth(username, password),
            timeout=timeout,
        )
        self._names: dict[str, str] = {}

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- tickets ---------------------------------------------------------------------------

    async def create(self, draft: TicketDraft) -> RemoteTicket:
        existing = await self.find(draft.reference)
        if existing is not None:
            log.info("servicenow: %s is already %s", draft.reference, existing.display_id)
            return existing
        impact, urgency = IMPACT_URGENCY.get(draft.priority, ("2", "2"))
        record: dict[str, str] = {
            "short_description": titled(draft)[:160],
            "description": describe(draft),
            "correlation_id": draft.reference,
            "correlation_display": "itbot",
            "impact": impact,
            "urgency": urgency,
            "contact_type": "self-service",
        }
        if self._assignment_group:
            record["assignment_group"] = self._assignment_group
        if self._caller_id:
            record["caller_id"] = self._caller_id
        data = await self._http.request(
            "POST",
            f"{_TABLE}/incident",
            params={"sysparm_fields": _FIELDS, "sysparm_exclude_reference_link": "true"},
            json_body=record,
        )
        ticket = self._ticket(self._result(data))
        log.info("servicenow: filed %s as %s", draft.reference, ticket.display_id)
        return ticket

    async def find(self, reference: str) -> RemoteTicket | None:
        rows = await self._query(
            "incident", f"correlation_id={_enc(reference)}^ORDERBYsys_created_on", _FIELDS, 1
        )
        return self._ticket(rows[0]) if rows else None

    async def fetch(self, remote_id: str) -> RemoteTicket:
        return self._ticket(await self._record(remote_id))

    async def _record(self, remote_id: str) -> Any:
        if not _SYS_ID.match(remote_id):
            raise TicketNotFound(
                f"{remote_id!r} is not a ServiceNow sys_id", desk=self.name, remote_id=remote_id
            )
        data = await self._http.request(
            "GET",
            f"{_TABLE}/incident/{remote_id}",
            params={"sysparm_fields": _FIELDS},
            not_found=remote_id,
        )
        return self._result(data)

    def _result(self, data: Any) -> Any:
        with self._http.parsing("a record"):
            return data["result"]

    def _ticket(self, row: Any) -> RemoteTicket:
        with self._http.parsing("an incident"):
            sys_id = str(row["sys_id"])
            return RemoteTicket(
                remote_id=sys_id,
                display_id=str(row.get("number") or sys_id),
                reference=str(row.get("correlation_id") or "") or None,
                status=FROM_STATE.get(str(row["state"]), "open"),
                url=f"{self._base}/nav_to.do?uri=incident.do%3Fsys_id%3D{sys_id}",
                updated_at=parse_time(self.name, str(row["sys_updated_on"])),
            )

    async def set_status(self, remote_id: str, status: TicketStatus) -> None:
        target = TO_STATE[status]
        current = await self._record(remote_id)
        if str(current.get("state")) == target:
            return
        change: dict[str, str] = {"state": target}
        if status == "pending":
            change["hold_reason"] = "1"  # Awaiting Caller
        if status in ("resolved", "closed"):
            change["close_code"] = self._resolution_code
            change["close_notes"] = "Resolved through the IT bot."
        try:
            data = await self._http.request(
                "PATCH",
                f"{_TABLE}/incident/{remote_id}",
                params={"sysparm_fields": _FIELDS},
                json_body=change,
                not_found=remote_id,
            )
        except DeskAuthError as exc:  # ServiceNow answers a data policy breach with 403
            if "data policy" not in (exc.detail or "").lower():
                raise
            raise DeskRejected(
                f"ServiceNow refused state {target} for incident {remote_id}: {exc.detail}; "
                "check resolution_code is a close code the instance accepts",
                desk=self.name,
                status=exc.status,
                detail=exc.detail,
            ) from exc
        if str(self._result(data).get("state")) != target:
            raise DeskRejected(
                f"ServiceNow kept incident {remote_id} out of state {target}; a business "
                "rule or data policy refused it, check the instance's incident rules",
                desk=self.name,
            )

    # -- comments --------------------------------------------------------------------------

    async def add_comment(self, remote_id: str, comment: CommentDraft) -> None:
        await self._record(remote_id)
        element = "comments" if comment.public else "work_notes"
        text = comment_text(comment)
        mine = await self._query(
            "sys_journal_field",
            f"element_id={remote_id}^element={element}^sys_created_by={_enc(self._username)}"
            "^ORDERBYDESCsys_created_on",
            "value",
            _PAGE,
        )
        if any(str(row.get("value", "")).strip() == text.strip() for row in mine):
            log.info("servicenow: comment %s is already on %s", comment.key, remote_id)
            return
        await self._http.request(
            "PATCH",
            f"{_TABLE}/incident/{remote_id}",
            params={"sysparm_fields": "sys_id"},
            json_body={element: text},
            not_found=remote_id,
        )

    # -- sync back -------------------------------------------------------------------------

    async def changes_since(self, since: datetime) -> list[RemoteChange]:
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        when = since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        me = _enc(self._username)
        journal = await self._query(
            "sys_journal_field",
            f"name=incident^elementINcomments,work_notes^sys_created_on>={when}"
            f"^sys_created_by!={me}^ORDERBYsys_created_on",
            "sys_id,element,element_id,value,sys_created_on,sys_created_by",
        )
        audit = await self._query(
            "sys_audit",
            f"tablename=incident^fieldname=state^sys_created_on>={when}^user!={me}"
            "^ORDERBYsys_created_on",
            "sys_id,documentkey,newvalue,sys_created_on,user,record_checkpoint",
        )
        with self._http.parsing("the journal and audit"):
            ids = sorted(
                {str(r["element_id"]) for r in journal} | {str(r["documentkey"]) for r in audit}
            )
            tickets: dict[str, RemoteTicket] = {}
            for start in range(0, len(ids), 50):
                rows = await self._query(
                    "incident",
                    f"sys_idIN{','.join(ids[start : start + 50])}^correlation_idISNOTEMPTY",
                    _FIELDS,
                )
                tickets.update((t.remote_id, t) for t in map(self._ticket, rows))
            changes = []
            for row in journal:
                if (ticket := tickets.get(str(row["element_id"]))) is not None:
                    changes.append(
                        RemoteChange(
                            remote_id=ticket.remote_id,
                            reference=ticket.reference,
                            kind="comment",
                            at=parse_time(self.name, str(row["sys_created_on"])),
                            change_id=f"servicenow:comment:{row['sys_id']}",
                            body=str(row["value"]).strip(),
                            author=await self._name(str(row["sys_created_by"])),
                            public=row["element"] == "comments",
                        )
                    )
            for row in audit:
                if (ticket := tickets.get(str(row["documentkey"]))) is not None:
                    changes.append(
                        RemoteChange(
                            remote_id=ticket.remote_id,
                            reference=ticket.reference,
                            kind="status",
                            at=parse_time(self.name, str(row["sys_created_on"])),
                            change_id=f"servicenow:status:{ticket.remote_id}:"
                            f"{row['record_checkpoint']}",
                            status=FROM_STATE.get(str(row["newvalue"]), "open"),
                            author=await self._name(str(row["user"])),
                        )
                    )
        changes.sort(key=lambda c: c.at)
        return changes

    async def _name(self, user_name: str) -> str:
        if user_name not in self._names:
            try:
                rows = await self._query("sys_user", f"user_name={_enc(user_name)}", "name", 1)
            except (DeskAuthError, DeskRejected):  # the bot may not read sys_user
                rows = []
            self._names[user_name] = str(rows[0].get("name") or user_name) if rows else user_name
        return self._names[user_name]

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[RemoteChange]:
        """Events from the business rules (``status`` = the ``state`` value)."""
        return parse_signed_webhook(
            desk=self.name,
            secret=self._webhook_secret,
            headers=headers,
            body=body,
            to_status=lambda state: FROM_STATE.get(state, "open"),
            bot_user=self._username,
        )

    # -- plumbing --------------------------------------------------------------------------

    async def _query(
        self, table: str, query: str, fields: str, limit: int | None = None
    ) -> list[Any]:
        rows: list[Any] = []
        while True:
            page = min(limit or _PAGE, _PAGE)
            data = await self._http.request(
                "GET",
                f"{_TABLE}/{table}",
                params={
                    "sysparm_query": query,
                    "sysparm_fields": fields,
                    "sysparm_limit": str(page),
                    "sysparm_offset": str(len(rows)),
                    "sysparm_exclude_reference_link": "true",
                },
            )
            with self._http.parsing(f"a {table} query"):
                batch = list(data["result"])
            rows += batch
            if len(batch) < page or (limit is not None and len(rows) >= limit):
                return rows[:limit] if limit is not None else rows


def _enc(value: str) -> str:
    """A value for an encoded query, which has no quoting: refuse what would break it."""
    if "^" in value or "\n" in value or "\r" in value:
        raise DeskRejected(f"{value!r} can't be used in a ServiceNow query", desk="servicenow")
    return value
