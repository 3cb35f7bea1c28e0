"""A fake ServiceNow instance over real HTTP: the Table API's documented shapes for
``incident``, ``sys_journal_field``, ``sys_audit`` and ``sys_user``, an encoded-query
subset, the data policy that makes resolving need a resolution code, agents who comment
and change state, and the signed events the business rules would push for them."""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from integrations.servicedesk import ServiceDesk, ServiceNow, TicketStatus
from integrations.servicedesk.http import SIGNATURE_HEADER, sign
from integrations.servicedesk.servicenow import TO_STATE
from tests.servicedesk.support import Faults, FlakyServer, Harness, basic_auth_ok

USER, PASSWORD, SECRET = "itbot", "servicenow-password", "servicenow-webhook-secret"
AGENT = "alex.agent"
USERS = {USER: "IT bot", AGENT: "Alex Agent"}
TABLES = ("incident", "sys_journal_field", "sys_audit", "sys_user")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _failure(status: int, message: str, detail: str = "") -> web.Response:
    return web.json_response(
        {"error": {"message": message, "detail": detail}, "status": "failure"}, status=status
    )


OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "=": str.__eq__,
    "!=": str.__ne__,
    ">=": str.__ge__,
    "<=": str.__le__,
    ">": str.__gt__,
    "<": str.__lt__,
}


def _parse(query: str) -> tuple[list[tuple[str, str, str]], list[tuple[str, bool]]]:
    """An encoded query (``a=b^cINx,y^dISNOTEMPTY^ORDERBYe``) as (field, operator, value)
    conditions and an order; ``ValueError`` for a term the fake doesn't know."""
    conditions, order = [], []
    for term in filter(None, query.split("^")):
        if m := re.fullmatch(r"ORDERBY(DESC)?(\w+)", term):
            order.append((m[2], bool(m[1])))
        elif m := re.fullmatch(r"(\w+?)(ISNOTEMPTY|ISEMPTY)", term):
            conditions.append((m[1], m[2], ""))
        elif m := re.fullmatch(r"(\w+?)(!=|>=|<=|=|>|<)(.*)", term, flags=re.DOTALL):
            conditions.append((m[1], m[2], m[3]))
        elif m := re.fullmatch(r"(\w+?)IN(.*)", term):
            conditions.append((m[1], "IN", m[2]))
        else:
            raise ValueError(term)
    return conditions, order


def _holds(row: dict[str, str], field: str, operator: str, value: str) -> bool:
    have = str(row.get(field, ""))
    if operator in ("ISEMPTY", "ISNOTEMPTY"):
        return (not have) == (operator == "ISEMPTY")
    if operator == "IN":
        return have in value.split(",")
    return OPERATORS[operator](have, value)


class FakeServiceNow:
    def __init__(self) -> None:
        self.faults = Faults()
        self.tables: dict[str, dict[str, dict[str, str]]] = {t: {} for t in TABLES}
        for user_name, name in USERS.items():
            self._insert("sys_user", {"user_name": user_name, "name": name})
        self.webhooks: list[tuple[dict[str, str], bytes]] = []
        self._numbers = itertools.count(10001)
        self.server = FlakyServer(self.make_app)

    def _insert(self, table: str, row: dict[str, str]) -> dict[str, str]:
        row = {"sys_id": uuid.uuid4().hex, "sys_created_on": _now(), **row}
        self.tables[table][row["sys_id"]] = row
        return row

    # -- what agents do in ServiceNow --------------------------------------------------------

    def agent_comment(self, sys_id: str, text: str, *, public: bool) -> None:
        self._update(
            self.tables["incident"][sys_id], {"comments" if public else "work_notes": text}, AGENT
        )

    def agent_state(self, sys_id: str, state: str) -> None:
        change = {"state": state, "close_code": "Solution provided", "close_notes": "Fixed"}
        self._update(self.tables["incident"][sys_id], change, AGENT)

    def _push(self, incident: dict[str, str], **event: Any) -> None:
        event = {
            "ticket": incident["sys_id"],
            "reference": incident.get("correlation_id"),
            "author": USERS.get(event["author_id"]),
            "at": _now().replace(" ", "T") + "Z",
            **event,
        }
        body = json.dumps(event).encode()
        self.webhooks.append(({SIGNATURE_HEADER: sign(SECRET, body)}, body))

    # -- the Table API ---------------------------------------------------------------------

    def make_app(self) -> web.Application:
        @web.middleware
        async def auth(request: web.Request, handler: Any) -> web.StreamResponse:
            if not basic_auth_ok(request, USER, PASSWORD):
                return _failure(
                    401, "User Not Authenticated", "Required to provide Auth information"
                )
            response: web.StreamResponse = await handler(request)
            return response

        app = web.Application(middlewares=[self.faults.middleware, auth])
        app.router.add_get("/api/now/table/{table}", self.list_records)
        app.router.add_post("/api/now/table/{table}", self.create_record)
        app.router.add_get("/api/now/table/{table}/{sys_id}", self.get_record)
        app.router.add_patch("/api/now/table/{table}/{sys_id}", self.patch_record)
        return app

    def _table(self, request: web.Request) -> dict[str, dict[str, str]]:
        table = request.match_info["table"]
        if table not in self.tables:
            raise web.HTTPBadRequest(
                text=json.dumps({"error": {"message": "Invalid table"}}),
                content_type="application/json",
            )
        return self.tables[table]

    @staticmethod
    def _shape(row: dict[str, str], request: web.Request) -> dict[str, str]:
        fields = request.query.get("sysparm_fields")
        return {f: row.get(f, "") for f in fields.split(",")} if fields else dict(row)

    async def list_records(self, request: web.Request) -> web.Response:
        try:
            conditions, order = _parse(request.query.get("sysparm_query", ""))
        except ValueError as exc:
            return _failure(400, f"Invalid query term {exc}")
        rows = [r for r in self._table(request).values() if all(_holds(r, *c) for c in conditions)]
        for name, descending in reversed(order):
            rows.sort(key=lambda r: r.get(name, ""), reverse=descending)
        offset = int(request.query.get("sysparm_offset", 0))
        limit = int(request.query.get("sysparm_limit", 10000))
        return web.json_response(
            {"result": [self._shape(r, request) for r in rows[offset : offset + limit]]}
        )

    async def get_record(self, request: web.Request) -> web.Response:
        row = self._table(request).get(request.match_info["sys_id"])
        if row is None:
            return _failure(
                404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval"
            )
        return web.json_response({"result": self._shape(row, request)})

    async def create_record(self, request: web.Request) -> web.Response:
        if request.match_info["table"] != "incident":
            return _failure(403, "Operation Failed", "ACL restricts the record insertion")
        values = {k: str(v) for k, v in (await request.json()).items()}
        row = self._insert(
            "incident",
            {
                "number": f"INC{next(self._numbers):07d}",
                "state": "1",
                "sys_created_by": USER,
                "sys_updated_on": _now(),
                "sys_updated_by": USER,
                "sys_mod_count": "0",
                **{k: v for k, v in values.items() if k not in ("comments", "work_notes")},
            },
        )
        return web.json_response({"result": self._shape(row, request)}, status=201)

    async def patch_record(self, request: web.Request) -> web.Response:
        row = self._table(request).get(request.match_info["sys_id"])
        if row is None or request.match_info["table"] != "incident":
            return _failure(
                404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval"
            )
        change = {k: str(v) for k, v in (await request.json()).items()}
        closing = change.get("state") in ("6", "7")
        if (closing and not (change.get("close_code") or row.get("close_code"))) or (
            closing and not (change.get("close_notes") or row.get("close_notes"))
        ):
            return _failure(
                403,
                "Operation Failed",
                "Data Policy Exception: \n\tThe following fields are mandatory: "
                "Resolution code, Resolution notes\n",
            )
        self._update(row, change, USER)
        return web.json_response({"result": self._shape(row, request)})

    def _update(self, row: dict[str, str], change: dict[str, str], user: str) -> None:
        row["sys_mod_count"] = str(int(row["sys_mod_count"]) + 1)
        row.update(sys_updated_on=_now(), sys_updated_by=user)
        for element in ("comments", "work_notes"):
            if text := change.pop(element, ""):
                entry = self._insert(
                    "sys_journal_field",
                    {
                        "name": "incident",
                        "element": element,
                        "element_id": row["sys_id"],
                        "value": text,
                        "sys_created_by": user,
                    },
                )
                self._push(
                    row,
                    id=entry["sys_id"],
                    kind="comment",
                    body=text,
                    public=element == "comments",
                    author_id=user,
                )
        if "state" in change and change["state"] != row["state"]:
            self._insert(
                "sys_audit",
                {
                    "tablename": "incident",
                    "fieldname": "state",
                    "documentkey": row["sys_id"],
                    "oldvalue": row["state"],
                    "newvalue": change["state"],
                    "user": user,
                    "record_checkpoint": row["sys_mod_count"],
                },
            )
            self._push(
                row,
                id=f"{row['sys_id']}:{row['sys_mod_count']}",
                kind="status",
                status=change["state"],
                author_id=user,
            )
        row.update(change)


class ServiceNowHarness(Harness):
    name = "servicenow"
    webhook_secret = SECRET

    def __init__(self) -> None:
        super().__init__()
        self.fake = FakeServiceNow()
        self.faults = self.fake.faults
        self.server = self.fake.server

    def _connect(self, *, timeout: float, **overrides: Any) -> ServiceDesk:
        options: dict[str, Any] = {
            "base_url": self.server.url,
            "username": USER,
            "password": PASSWORD,
            "webhook_secret": SECRET,
            "timeout": timeout,
            **overrides,
        }
        return ServiceNow(**options)

    async def count(self, reference: str) -> int:
        return sum(
            r.get("correlation_id") == reference for r in self.fake.tables["incident"].values()
        )

    async def comments(self, remote_id: str) -> list[tuple[str, bool]]:
        rows = self.fake.tables["sys_journal_field"].values()
        return [
            (r["value"], r["element"] == "comments") for r in rows if r["element_id"] == remote_id
        ]

    async def agent_reply(self, remote_id: str, body: str, *, public: bool) -> None:
        self.fake.agent_comment(remote_id, body, public=public)

    async def agent_set_status(self, remote_id: str, status: TicketStatus) -> None:
        self.fake.agent_state(remote_id, TO_STATE[status])

    def webhooks(self) -> list[tuple[dict[str, str], bytes]]:
        return list(self.fake.webhooks)
