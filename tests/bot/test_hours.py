"""The desk's hours, as the bot states them: from the settings, and honest out of hours.

"Talk to a person" when the desk is closed says so and when it next opens (weekends, bank
holidays and closure days counted), still raises the handoff ticket, and offers what the
bot can do now. Articles state the same facts through ``{{ desk.hours }}``.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.conversation.engine import ConversationEngine
from bot.desk.calendar import LONDON
from bot.flows import default_registry
from bot.settings import SETTINGS, Settings
from tests.bot.test_conversations import Chat, Clock
from tests.conftest import ALEX, itbot, say, shared_app, shared_services, sign_in

WEDNESDAY_10AM = datetime(2026, 11, 25, 10, 0, tzinfo=LONDON)
WEDNESDAY_5_30PM = datetime(2026, 11, 25, 17, 30, tzinfo=LONDON)
SATURDAY = datetime(2026, 11, 28, 11, 0, tzinfo=LONDON)
CHRISTMAS_DAY = datetime(2026, 12, 25, 10, 0, tzinfo=LONDON)
BOXING_DAY_OBSERVED = datetime(2026, 12, 28, 10, 0, tzinfo=LONDON)

IN_HOURS_PROMISE = "An agent will reply to you here."


def configured(settings: Settings, **environ: str) -> Settings:
    """The test's settings with these variables set too, read as the bot reads them."""
    extra = Settings.from_environ(environ)
    changed = {s.attr: getattr(extra, s.attr) for s in SETTINGS if s.env in environ}
    return dataclasses.replace(settings, **changed)


@contextlib.asynccontextmanager
async def bot_at(settings: Settings, now: datetime) -> AsyncIterator[Chat]:
    """Sam (Dacorum), talking to a bot started with ``settings``, at ``now``."""
    clock = Clock()
    clock.now = now
    async with shared_services(settings) as services:
        yield Chat(ConversationEngine(services, default_registry(), clock=clock))


async def test_on_a_saturday_the_bot_says_when_the_desk_opens_and_still_passes_it_on(
    settings: Settings,
) -> None:
    async with bot_at(settings, SATURDAY) as sam:
        said = await sam.say("I need to talk to a person")
        assert IN_HOURS_PROMISE not in said
        assert "The Joint ICT Service Desk is closed right now." in said
        assert "It's open Monday to Friday, 08:30 to 17:00" in said
        assert "except bank holidays and 27 to 31 December" in said
        assert "next opens on Monday 30 November at 08:30" in said
        assert "an agent will reply to you here once they're back" in said
        # what the bot can do now, without waiting for anyone
        assert sam.buttons == ["Reset my password", "Unlock my account", "My tickets"]
        assert "type a question and I'll search the guides" in said
        assert "What do you need help with?" in said

        # the handoff ticket is still raised, with the clocks starting on Monday
        await sam.say("My laptop won't start after the update")
        await sam.press("Laptop, phone or printer")
        await sam.press("can't work at all")
        done = await sam.say("yes")
        assert "Done: JSD-000001 is with the Joint ICT Service Desk" in done
        assert "respond by Mon 30 Nov, 09:30" in done  # P2: 1 working hour


async def test_asking_for_the_desks_number_on_a_saturday_says_when_it_opens(
    settings: Settings,
) -> None:
    async with bot_at(settings, SATURDAY) as sam:
        said = await sam.say("what is the service desk phone number")
        assert "on 01632 960 200 or ictservicedesk@dacorum.gov.uk" in said
        assert "It's closed right now and next opens on Monday 30 November at 08:30." in said
        assert sam.buttons == ["Pass a message to the desk"]


async def test_what_the_bot_can_do_now_is_one_press_away(settings: Settings) -> None:
    async with bot_at(settings, SATURDAY) as sam:
        await sam.say("can I speak to someone on the service desk please")
        assert "no open tickets" in await sam.press("My tickets")


@pytest.mark.parametrize(
    ("now", "closed"),
    [
        (CHRISTMAS_DAY, "closed today for the Christmas Day bank holiday"),
        (BOXING_DAY_OBSERVED, "closed today for the Boxing Day bank holiday"),
    ],
)
async def test_on_a_bank_holiday_the_next_opening_skips_holidays_and_closure_days(
    settings: Settings, now: datetime, closed: str
) -> None:
    async with bot_at(settings, now) as sam:
        said = await sam.say("I need to talk to a person")
    assert IN_HOURS_PROMISE not in said
    assert closed in said
    # 28 Dec a bank holiday, 29-31 Dec closure days, 1 Jan a bank holiday, then a weekend
    assert "next opens on Monday 4 January 2027 at 08:30" in said


async def test_on_a_configured_closure_day_the_desk_is_closed(settings: Settings) -> None:
    closed_thursday = configured(settings, ITBOT_CLOSURE_DAYS="2026-11-26")
    async with bot_at(closed_thursday, datetime(2026, 11, 26, 11, 0, tzinfo=LONDON)) as sam:
        said = await sam.say("I need to talk to a person")
    assert IN_HOURS_PROMISE not in said
    assert "closed today (one of its closure days)" in said
    assert "except bank holidays and 26 November 2026" in said
    assert "next opens tomorrow at 08:30" in said


async def test_after_five_on_a_weekday_the_desk_opens_tomorrow(settings: Settings) -> None:
    async with bot_at(settings, WEDNESDAY_5_30PM) as sam:
        said = await sam.say("I need to talk to a person")
    assert IN_HOURS_PROMISE not in said
    assert "closed right now" in said
    assert "next opens tomorrow at 08:30" in said


async def test_in_hours_an_agent_will_reply(settings: Settings) -> None:
    async with bot_at(settings, WEDNESDAY_10AM) as sam:
        said = await sam.say("I need to talk to a person")
    assert IN_HOURS_PROMISE in said
    assert "closed" not in said
    assert "Reset my password" not in sam.buttons


async def test_the_configured_working_hours_change_the_replies(settings: Settings) -> None:
    nine_to_four = configured(settings, ITBOT_WORKING_HOURS="09:00-16:00")
    async with bot_at(nine_to_four, datetime(2026, 11, 25, 8, 45, tzinfo=LONDON)) as sam:
        early = await sam.say("I need to talk to a person")
        assert "It's open Monday to Friday, 09:00 to 16:00" in early
        assert "next opens today at 09:00" in early
        await sam.say("cancel")
    async with bot_at(nine_to_four, datetime(2026, 11, 25, 16, 15, tzinfo=LONDON)) as sam:
        assert "next opens tomorrow at 09:00" in await sam.say("I need to talk to a person")
        await sam.say("cancel")
    async with bot_at(nine_to_four, datetime(2026, 11, 25, 15, 45, tzinfo=LONDON)) as sam:
        assert IN_HOURS_PROMISE in await sam.say("I need to talk to a person")


async def test_an_article_states_the_configured_hours_for_the_askers_council(
    settings: Settings,
) -> None:
    nine_to_four = configured(settings, ITBOT_WORKING_HOURS="09:00-16:00")
    async with bot_at(nine_to_four, WEDNESDAY_10AM) as sam:
        await sam.say("what are the IT service desk's opening hours?")
    [card] = [c for r in sam.replies for c in r.cards]
    assert card.article_id == "help/opening-hours-and-contact-details"
    assert "staffed **Monday to Friday, 09:00 to 16:00** (UK time)" in card.body_markdown
    assert "closed** on bank holidays and 27 to 31 December" in card.body_markdown
    assert "Phone: **01632 960 200**" in card.body_markdown  # Dacorum's, from ITBOT_COUNCILS
    assert "01632 960 100" not in card.body_markdown
    assert "{{" not in card.body_markdown


async def test_the_article_page_states_the_configured_hours(settings: Settings) -> None:
    hours = configured(settings, ITBOT_WORKING_HOURS="07:45-18:15")
    async with shared_app(hours) as app, TestClient(TestServer(app)) as client:
        await sign_in(client, ALEX)
        page = await (await client.get("/kb/sign-in/account-locked")).text()
        assert "01632 960 100 (Monday to Friday, 07:45 to 18:15)" in page  # Aylesbury Vale's
        assert "{{" not in page
        replies = await say(client, "my account is locked, what number do I call?")
        assert "{{" not in str(replies)


def test_kb_check_reports_an_unknown_placeholder_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kb = tmp_path / "kb"
    (kb / "help").mkdir(parents=True)
    (kb / "help" / "call-us.md").write_text(
        "---\ntitle: Call us\nowner: it@dacorum.gov.uk\n---\n"
        "Call {{ desk.phone }}.\n\nWe're open {{ desk.hour }}.\n",
        encoding="utf-8",
    )
    code, out = itbot(capsys, "kb", "check", "--kb", str(kb))
    assert code == 1
    assert (
        f"{kb / 'help' / 'call-us.md'}:7: error: unknown placeholder {{{{ desk.hour }}}} "
        "(did you mean {{ desk.hours }}?)"
    ) in out
    assert "desk.phone" not in out
    assert "1 errors" in out

    code, out = itbot(
        capsys, "kb", "preview", "help/call-us", "--council", "dacorum", "--kb", str(kb)
    )
    assert code == 0
    assert "Call 01632 960 200." in out
