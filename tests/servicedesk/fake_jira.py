"""A fake Jira Service Management Cloud over real HTTP: the documented shapes of the
endpoints the connector uses, a tiny JQL subset, a JSM-like workflow, agents who comment
and transition, and the signed admin webhooks Jira would send for what they do."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from aiohttp import web

from integrations.servicedesk import JiraServiceManagement, ServiceDesk, TicketStatus
from integrations.servicedesk.http import sign
from tests.servicedesk.support import Faults, FlakyServer, Harness, basic_auth_ok

EMAIL, TOKEN, SECRET = "itbot@councils.example", "jira-api-token", "jira-webhook-secret"
SERVICE_DESK_ID, REQUEST_TYPE_ID, PROJECT = "4", "42", "HELP"
REFERENCE_FIELD = "customfield_10050"
WORKFLOW = {  # status name -> status category key
    "Waiting for support": "new",
    "In progress": "indeterminate",
    "Waiting for customer": "indeterminate",
    "Resolved": "done",
    "Closed": "done",
}
BOT = {"accountId": "5b10-bot", "displayName": "IT bot", "emailAddress": EMAIL}
AGENT = {"accountId": "5b10-agent", "displayName": "Alex Agent"}


JQL = (  # the clauses the connector sends
    r'project = "([^"]*)"',
    r'labels = "([^"]*)"',
    r'cf\[(\d+)\] ~ "([^"]*)"',
    r"cf\[(\d+)\] is not EMPTY",
    r'updated >= "-(\d+)m"',
)


def _matches(issue: Issue, clause: str) -> bool:
    labels = issue.fields.get("labels") or []
    if m := re.fullmatch(JQL[0], clause):
        return issue.key.startswith(m[1] + "-")
    if m := re.fullmatch(JQL[1], clause):
        return m[1] in labels
    if m := re.fullmatch(JQL[2], clause):
        return m[2].lower() in str(issue.fields.get(f"customfield_{m[1]}") or "").lower()
    if m := re.fullmatch(JQL[3], clause):
        return bool(issue.fields.get(f"customfield_{m[1]}"))
    if m := re.fullmatch(JQL[4], clause):
        return issue.updated >= datetime.now(UTC) - timedelta(minutes=int(m[1]))
    raise AssertionError(clause)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


@dataclass
class Issue:
    id: int
    key: str
    fields: dict[str, Any]
    status: str = "Waiting for support"
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))
    comments: list[dict[str, Any]] = field(default_factory=list)
    changelog: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self, wanted: str | None = None) -> dict[str, Any]:
        fields = {
            **self.fields,
            "status": {"name": self.status, "statusCategory": {"key": WORKFLOW[self.status]}},
            "updated": _stamp(self.updated),
            "created": _stamp(self.created),
        }
        if wanted:
            fields = {k: fields.get(k) for k in wanted.split(",")}
        return {
            "id": str(self.id),
            "key": self.key,
            "self": f"/rest/api/3/issue/{self.id}",
            "fields": fields,
        }


class FakeJira:
    def __init__(self) -> None:
        self.faults = Faults()
        self.issues: dict[str, Issue] = {}
        self.webhooks: list[tuple[dict[str, str], bytes]] = []
        self._ids = itertools.count(1)
        self.server = FlakyServer(self.make_app)

    # -- what agents do in Jira --------------------------------------------------------------

    def agent_comment(self, key: str, text: str, *, public: bool) -> dict[str, Any]:
        comment = self._add_comment(self.issues[key], AGENT, text, internal=not public)
        self._webhook("comment_created", self.issues[key], comment={**comment, "body": text})
        return comment

    def agent_transition(self, key: str, status: str) -> None:
        issue = self.issues[key]
        history = self._transition(issue, AGENT, status)
        self._webhook("jira:issue_updated", issue, user=AGENT, changelog=history)

    def _webhook(self, event: str, issue: Issue, **extra: Any) -> None:
        payload = {
            "timestamp": int(datetime.now(UTC).timestamp() * 1000),
            "webhookEvent": event,
            "issue": issue.as_json(),
            **extra,
        }
        body = json.dumps(payload).encode()
        headers = {
            "X-Hub-Signature": sign(SECRET, body),
            "Content-Type": "application/json",
            "X-Atlassian-Webhook-Identifier": str(next(self._ids)),
        }
        self.webhooks.append((headers, body))

    def _add_comment(
        self,
        issue: Issue,
        author: dict[str, Any],
        body: Any,
        *,
        internal: bool,
        properties: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        if isinstance(body, str):
            body = {
                "type": "doc",
                "version": 1,
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": body}]}],
            }
        now = datetime.now(UTC)
        comment = {
            "id": str(10000 + next(self._ids)),
            "author": author,
            "body": body,
            "created": _stamp(now),
            "updated": _stamp(now),
            "jsdPublic": not internal,
            "properties": properties or [],
        }
        issue.comments.append(comment)
        issue.updated = now
        return comment

    def _transition(self, issue: Issue, author: dict[str, Any], status: str) -> dict[str, Any]:
        now = datetime.now(UTC)
        history = {
            "id": str(20000 + next(self._ids)),
            "author": author,
            "created": _stamp(now),
            "items": [
                {
                    "field": "status",
                    "fieldtype": "jira",
                    "fromString": issue.status,
                    "toString": status,
                }
            ],
        }
        issue.status, issue.updated = status, now
        issue.changelog.append(history)
        return history

    # -- the HTTP API ----------------------------------------------------------------------

    def make_app(self) -> web.Application:
        @web.middleware
        async def auth(request: web.Request, handler: Any) -> web.StreamResponse:
            if not basic_auth_ok(request, EMAIL, TOKEN):
                return web.json_response(
                    {"errorMessages": ["Client must be authenticated to access this resource."]},
                    status=401,
                )
            response: web.StreamResponse = await handler(request)
            return response

        app = web.Application(middlewares=[self.faults.middleware, auth])
        r = app.router
        r.add_post("/rest/servicedeskapi/request", self.create_request)
        r.add_get("/rest/api/3/myself", self.myself)
        r.add_get("/rest/api/3/search", self.old_search)
        r.add_get("/rest/api/3/search/jql", self.search)
        r.add_get("/rest/api/3/issue/{key}", self.get_issue)
        r.add_get("/rest/api/3/issue/{key}/transitions", self.transitions)
        r.add_post("/rest/api/3/issue/{key}/transitions", self.do_transition)
        r.add_get("/rest/api/3/issue/{key}/comment", self.get_comments)
        r.add_post("/rest/api/3/issue/{key}/comment", self.post_comment)
        r.add_get("/rest/api/3/issue/{key}/changelog", self.get_changelog)
        return app

    def _issue(self, request: web.Request) -> Issue:
        issue = self.issues.get(request.match_info["key"])
        if issue is None:
            raise web.HTTPNotFound(
                text=json.dumps(
                    {
                        "errorMessages": [
                            "Issue does not exist or you do not have permission to see it."
                        ],
                        "errors": {},
                    }
                ),
                content_type="application/json",
            )
        return issue

    async def create_request(self, request: web.Request) -> web.Response:
        body = await request.json()
        values = body.get("requestFieldValues") or {}
        problem = None
        if body.get("serviceDeskId") != SERVICE_DESK_ID:
            problem = f"The service project {body.get('serviceDeskId')} does not exist."
        elif body.get("requestTypeId") != REQUEST_TYPE_ID:
            problem = "The request type does not exist in this service project."
        elif not values.get("summary"):
            problem = "Summary is required."
        elif extra := set(values) - {"summary", "description", "labels", REFERENCE_FIELD}:
            problem = f"Fields {sorted(extra)} are not valid for this request type."
        if problem:
            return web.json_response({"errorMessage": problem}, status=400)
        n = len(self.issues) + 1
        issue = Issue(
            id=10000 + n,
            key=f"{PROJECT}-{n}",
            fields={
                "summary": values["summary"],
                "description": values.get("description", ""),
                "labels": list(values.get("labels") or []),
                REFERENCE_FIELD: values.get(REFERENCE_FIELD),
            },
        )
        self.issues[issue.key] = issue
        created = {"iso8601": _stamp(issue.created), "epochMillis": 0, "friendly": "Today"}
        return web.json_response(
            {
                "issueId": str(issue.id),
                "issueKey": issue.key,
                "requestTypeId": REQUEST_TYPE_ID,
                "serviceDeskId": SERVICE_DESK_ID,
                "createdDate": created,
                "reporter": BOT,
                "requestFieldValues": [{"fieldId": k, "value": v} for k, v in values.items()],
                "currentStatus": {
                    "status": issue.status,
                    "statusCategory": "NEW",
                    "statusDate": created,
                },
                "_links": {
                    "web": f"/servicedesk/customer/portal/4/{issue.key}",
                    "self": f"/rest/servicedeskapi/request/{issue.id}",
                },
            },
            status=201,
        )

    async def myself(self, request: web.Request) -> web.Response:
        return web.json_response(BOT)

    async def old_search(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "errorMessages": [
                    "The requested API has been removed. "
                    "Please migrate to the /rest/api/3/search/jql API."
                ]
            },
            status=410,
        )

    async def search(self, request: web.Request) -> web.Response:
        jql = request.query.get("jql", "")
        where = re.split(r"\s+ORDER BY\s+", jql, flags=re.IGNORECASE)[0]
        clauses = re.split(r"\s+AND\s+", where, flags=re.IGNORECASE)
        if bad := [c for c in clauses if not any(re.fullmatch(p, c) for p in JQL)]:
            return web.json_response(
                {"errorMessages": [f"Error in the JQL Query: {bad[0]!r}"]}, status=400
            )
        found = [i for i in self.issues.values() if all(_matches(i, c) for c in clauses)]
        start = int(request.query.get("nextPageToken") or 0)
        size = min(int(request.query.get("maxResults", 50)), 100)
        page = found[start : start + size]
        result: dict[str, Any] = {
            "issues": [i.as_json(request.query.get("fields")) for i in page],
            "isLast": start + size >= len(found),
        }
        if not result["isLast"]:
            result["nextPageToken"] = str(start + size)
        return web.json_response(result)

    async def get_issue(self, request: web.Request) -> web.Response:
        return web.json_response(self._issue(request).as_json(request.query.get("fields")))

    async def transitions(self, request: web.Request) -> web.Response:
        issue = self._issue(request)
        return web.json_response(
            {
                "transitions": [
                    {
                        "id": str(11 + n),
                        "name": f"Move to {name}",
                        "to": {"name": name, "statusCategory": {"key": category}},
                    }
                    for n, (name, category) in enumerate(WORKFLOW.items())
                    if name != issue.status
                ]
            }
        )

    async def do_transition(self, request: web.Request) -> web.Response:
        issue = self._issue(request)
        wanted = (await request.json()).get("transition", {}).get("id")
        names = {str(11 + n): name for n, name in enumerate(WORKFLOW)}
        if wanted not in names or names[wanted] == issue.status:
            return web.json_response(
                {
                    "errorMessages": [f"Transition id '{wanted}' is not valid for this issue."],
                    "errors": {},
                },
                status=400,
            )
        self._transition(issue, BOT, names[wanted])
        return web.Response(status=204)

    async def get_comments(self, request: web.Request) -> web.Response:
        issue = self._issue(request)
        start, size = int(request.query.get("startAt", 0)), int(request.query.get("maxResults", 50))
        expand = "properties" in request.query.get("expand", "")
        page = [
            c if expand else {k: v for k, v in c.items() if k != "properties"}
            for c in issue.comments[start : start + size]
        ]
        return web.json_response(
            {"startAt": start, "maxResults": size, "total": len(issue.comments), "comments": page}
        )

    async def post_comment(self, request: web.Request) -> web.Response:
        issue = self._issue(request)
        body = await request.json()
        if not isinstance(body.get("body"), dict) or body["body"].get("type") != "doc":
            return web.json_response(
                {"errorMessages": [], "errors": {"comment": "Comment body is not valid!"}},
                status=400,
            )
        properties = body.get("properties") or []
        internal = any(
            p.get("key") == "sd.public.comment" and p["value"].get("internal") for p in properties
        )
        comment = self._add_comment(
            issue, BOT, body["body"], internal=internal, properties=properties
        )
        return web.json_response(comment, status=201)

    async def get_changelog(self, request: web.Request) -> web.Response:
        issue = self._issue(request)
        start, size = int(request.query.get("startAt", 0)), int(request.query.get("maxResults", 50))
        page = issue.changelog[start : start + size]
        return web.json_response(
            {
                "startAt": start,
                "maxResults": size,
                "values": page,
                "total": len(issue.changelog),
                "isLast": start + size >= len(issue.changelog),
            }
        )


class JiraHarness(Harness):
    name = "jira"
    webhook_secret = SECRET
    STATUS_NAMES: ClassVar[dict[TicketStatus, str]] = {
        "new": "Waiting for support",
        "open": "In progress",
        "pending": "Waiting for customer",
        "resolved": "Resolved",
        "closed": "Closed",
    }

    def __init__(self) -> None:
        super().__init__()
        self.fake = FakeJira()
        self.faults = self.fake.faults
        self.server = self.fake.server

    def _connect(self, *, timeout: float, **overrides: Any) -> ServiceDesk:
        options: dict[str, Any] = {
            "base_url": self.server.url,
            "email": EMAIL,
            "api_token": TOKEN,
            "service_desk_id": SERVICE_DESK_ID,
            "request_type_id": REQUEST_TYPE_ID,
            "project_key": PROJECT,
            "webhook_secret": SECRET,
            "timeout": timeout,
            **overrides,
        }
        return JiraServiceManagement(**options)

    async def count(self, reference: str) -> int:
        return sum(
            f"itbot-{reference}" in (i.fields.get("labels") or [])
            or i.fields.get(REFERENCE_FIELD) == reference
            for i in self.fake.issues.values()
        )

    async def comments(self, remote_id: str) -> list[tuple[str, bool]]:
        from integrations.servicedesk.adf import adf_text

        return [(adf_text(c["body"]), c["jsdPublic"]) for c in self.fake.issues[remote_id].comments]

    async def agent_reply(self, remote_id: str, body: str, *, public: bool) -> None:
        self.fake.agent_comment(remote_id, body, public=public)

    async def agent_set_status(self, remote_id: str, status: TicketStatus) -> None:
        self.fake.agent_transition(remote_id, self.STATUS_NAMES[status])

    def webhooks(self) -> list[tuple[dict[str, str], bytes]]:
        return list(self.fake.webhooks)
