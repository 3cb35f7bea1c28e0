"""Where agent status comes from, and how it goes: ITBOT_DESK_AGENTS and add-agent.

(The agents' Slack user group is tested with the triage channel, in tests/slack.)
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.app import open_services
from bot.desk import accounts
from bot.storage import staff as staff_repo
from tests.desk.dashboard_support import quick_settings

KIM = "kim.lee@aylesburyvaledc.gov.uk"
JO = "jo.brown@dacorum.gov.uk"


async def test_leaving_the_configured_list_ends_agent_status_but_not_a_manual_grant(
    database_url: str, tmp_path: Path
) -> None:
    listed = quick_settings(database_url, tmp_path, ITBOT_DESK_AGENTS=f"{KIM},{JO}")
    async with open_services(listed) as services:
        async with services.db.session() as session, session.begin():
            # Jo is also added by hand: that grant outlives the list
            await accounts.add_agent(
                session, email=JO, council="dacorum", password_hash=None, now=datetime.now(UTC)
            )
        async with services.db.session() as session:
            kim = await staff_repo.get_by_email(session, KIM)
            assert kim is not None and (kim.is_agent, kim.agent_via) == (True, "settings")

    # the next start, with both taken off the list
    unlisted = quick_settings(database_url, tmp_path)
    async with open_services(unlisted) as services, services.db.session() as session:
        kim = await staff_repo.get_by_email(session, KIM)
        jo = await staff_repo.get_by_email(session, JO)
    assert kim is not None and (kim.is_agent, kim.agent_via) == (False, None)
    assert jo is not None and (jo.is_agent, jo.agent_via) == (True, "manual")
