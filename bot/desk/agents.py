"""Who is a service desk agent, and why: the one place the agent-role rules live.

Someone becomes an agent by hand (``itbot desk add-agent``: ``manual``), by being listed
in ``ITBOT_DESK_AGENTS`` (``settings``) or by belonging to the agents' group in the chat
directory (``slack_group``, the value the first such directory gave it). A hand grant is
never taken away by the list or the group; a listed or group grant ends when the person
leaves the list or the group.

>>> from bot.storage.models import Staff
>>> sam = Staff(email="sam.taylor@dacorum.gov.uk", council="dacorum", is_agent=False)
>>> grant(sam, SETTINGS); (sam.is_agent, sam.agent_via)
(True, 'settings')
>>> grant(sam, GROUP); sam.agent_via
'settings'
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import staff as staff_repo
from bot.storage.models import Staff

log = logging.getLogger(__name__)

MANUAL = "manual"
SETTINGS = "settings"
GROUP = "slack_group"
#: a grant of a stronger source is kept when a weaker one grants again
_STRENGTH = {MANUAL: 3, SETTINGS: 2, GROUP: 1}


def grant(staff: Staff, via: str) -> None:
    """Make ``staff`` an agent through ``via``; an explicit or listed grant is kept."""
    staff.is_agent = True
    if _STRENGTH.get(staff.agent_via or "", 0) < _STRENGTH[via]:
        staff.agent_via = via


def revoke(staff: Staff) -> None:
    staff.is_agent = False
    staff.agent_via = None


async def sync_listed(
    session: AsyncSession, listed: Collection[str], council_for: Callable[[str], str | None]
) -> None:
    """Staff in the configured list are agents; those listed before and no longer aren't.

    ``council_for`` gives an address's council key (``None``: on neither council's domain).
    """
    emails = {staff_repo.normalise_email(e) for e in listed}
    for email in sorted(emails):
        council = council_for(email)
        if council is None:
            log.warning("ITBOT_DESK_AGENTS: %s is on neither council's domain; ignored", email)
            continue
        staff = await staff_repo.get_or_create(session, email=email, council=council)
        grant(staff, SETTINGS)
    dropped = await session.execute(
        select(Staff).where(Staff.agent_via == SETTINGS, Staff.email.not_in(emails))
    )
    for staff in dropped.scalars():
        revoke(staff)
        log.info("%s is no longer in ITBOT_DESK_AGENTS: no longer an agent", staff.email)


async def revoke_departed(session: AsyncSession, still_in_group: Callable[[Staff], bool]) -> int:
    """Group agents for whom ``still_in_group`` is false stop being agents; how many did."""
    query = select(Staff).where(Staff.agent_via == GROUP)
    gone = 0
    for staff in (await session.execute(query)).scalars():
        if still_in_group(staff):
            continue
        revoke(staff)
        gone += 1
        log.info("%s left the agents' group: no longer an agent", staff.email)
    return gone
