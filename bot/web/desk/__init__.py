"""The agents' web dashboard at ``/desk``: sign-in, the queue, the ticket pages, the
approvals queue, the audit log, the knowledge page (gaps, stubs, article usage) and the
per-council report.

:func:`register` mounts it on the application as a sub-application whose middleware
(:func:`bot.web.desk.auth.guard`) requires a signed-in agent for every page but the
sign-in form, and a CSRF token on every POST.

>>> register(app)  # in bot.app.create_app                          # doctest: +SKIP
"""

from __future__ import annotations

from aiohttp import web


async def _to_queue(request: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect("/desk/")


def register(app: web.Application) -> None:
    """Mount ``/desk`` on ``app``. Imports here keep the package light for the command
    line, which only needs :mod:`bot.web.desk.clocks` and :mod:`bot.web.desk.present`."""
    from bot.web.desk import (
        approvals,
        audit,
        auth,
        knowledge,
        login,
        notices,
        queue,
        reports,
        ticket,
    )

    desk = web.Application(middlewares=[auth.guard])
    desk.router.add_get("/", queue.queue)
    desk.router.add_get("/login", login.login_page)
    desk.router.add_post("/login", login.login)
    desk.router.add_post("/logout", login.logout)
    desk.router.add_get("/tickets/{ref}", ticket.show)
    desk.router.add_post("/tickets/{ref}/{action}", ticket.act)
    desk.router.add_get("/approvals", approvals.show)
    desk.router.add_post("/approvals/{id}/{decision}", approvals.decide)
    desk.router.add_get("/notices", notices.show)
    desk.router.add_post("/notices", notices.publish)
    desk.router.add_post("/notices/{id}/end", notices.end)
    desk.router.add_post("/spikes/{id}/dismiss", notices.dismiss)
    desk.router.add_get("/audit", audit.audit_page)
    desk.router.add_get("/knowledge", knowledge.gaps)
    desk.router.add_post("/knowledge/stub", knowledge.stub)
    desk.router.add_get("/reports", reports.reports_page)
    desk.router.add_get("/reports.csv", reports.reports_csv)
    app.router.add_get(auth.PREFIX, _to_queue)
    app.add_subapp(auth.PREFIX, desk)
