"""The knowledge page, ``/desk/knowledge``: what to write next, and how articles do.

The same reports as ``itbot kb gaps`` and ``itbot kb usage`` (:mod:`bot.conversation.gaps`,
:mod:`bot.conversation.usage`), for the agents and editors who work from the dashboard:
the last 7, 30 or 90 days, both councils or one. Each cluster of unanswered questions has
a button that writes a stub article for it (:mod:`bot.conversation.stubs`) into the
knowledge base folder, as ``itbot kb stub`` does; where that folder is not set or is
read-only, the page says so instead.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from aiohttp import web

from bot.conversation.gaps import find_cluster, gap_report
from bot.conversation.stubs import DRAFTS, StubError, writable, write_stub
from bot.conversation.usage import usage_report
from bot.storage import audit
from bot.web import keys
from bot.web.desk import pages
from bot.web.desk.user import now, user

log = logging.getLogger(__name__)

PERIODS = (7, 30, 90)
#: Topics and articles shown.
SHOWN = 50
#: A stub's cluster is looked for in questions asked this many days back.
STUB_DAYS = max(PERIODS)
#: How each question got into a cluster, as the page says it.
OUTCOME_LABELS = {
    "declined": "declined",
    "none_of_these": "“None of these”",
    "rated_no": "rated “No”",
    "not_it_but_was": "“not IT” but was",
}
_CLUSTER_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
_WRITTEN = re.compile(rf"{DRAFTS}/[a-z0-9][a-z0-9-]{{0,79}}\.md")


@dataclass(frozen=True, slots=True)
class GapsForm:
    days: int = 30
    council: str = ""

    @classmethod
    def parse(cls, request: web.Request) -> GapsForm:
        councils = {c.key for c in request.config_dict[keys.SETTINGS].councils}
        council = request.query.get("council", "").strip()
        try:
            days = int(request.query.get("days", "30"))
        except ValueError:
            days = 30
        return cls(
            days=days if days in PERIODS else 30,
            council=council if council in councils else "",
        )

    def query(self, **more: str) -> str:
        return urlencode({"days": self.days, "council": self.council, **more})


async def gaps(request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
    form = GapsForm.parse(request)
    services = request.config_dict[keys.SERVICES]
    since = now() - timedelta(days=form.days)
    council = form.council or None
    async with services.db.session() as session:
        report = await gap_report(
            session, services.knowledge.kb, since=since, council=council, now_for=SHOWN
        )
        usage = await usage_report(session, services.knowledge.kb, since=since, council=council)
    written = request.query.get("written", "")
    return pages.render(
        request,
        "knowledge.html",
        status=status,
        form=form,
        report=report,
        usage=usage,
        periods=PERIODS,
        shown=SHOWN,
        cannot_write=writable(request.config_dict[keys.SETTINGS].kb_path),
        written=written if _WRITTEN.fullmatch(written) else "",
        error=error,
        outcome_labels=OUTCOME_LABELS,
    )


async def stub(request: web.Request) -> web.Response:
    """Write a stub article for the posted cluster, then show the page again."""
    data = await request.post()
    cluster = str(data.get("cluster", "")).strip()
    root = request.config_dict[keys.SETTINGS].kb_path
    reason = writable(root)
    if reason is not None or root is None:
        return await gaps(request, error=reason or "", status=409)
    if not _CLUSTER_ID.fullmatch(cluster):
        return await gaps(request, error="That is not a cluster id from this page.", status=404)
    services = request.config_dict[keys.SERVICES]
    editor = user(request)
    moment = now()
    async with services.db.session() as session, session.begin():
        gap = await find_cluster(
            session, services.knowledge.kb, cluster, since=moment - timedelta(days=STUB_DAYS)
        )
        if gap is None:
            return await gaps(
                request,
                error=f"No cluster {cluster} in the last {STUB_DAYS} days: reload the page.",
                status=404,
            )
        try:
            path = write_stub(root, gap, owner=editor.email, today=moment.date())
        except StubError as exc:
            return await gaps(request, error=str(exc), status=409)
        written = path.relative_to(root).as_posix()
        await audit.record(
            session, actor=editor.email, action="kb_stub", subject=written, cluster=gap.id
        )
    log.info("desk: %s wrote the stub %s for cluster %s", editor.email, written, gap.id)
    # listed (not served: a draft) on the page this redirects to, without the watcher's wait
    await services.knowledge.refresh([str(path)])
    raise web.HTTPSeeOther(f"/desk/knowledge?{GapsForm.parse(request).query(written=written)}")
