"""Who is asking: a Slack user id → ``users.info`` email → staff record and council.

Answers are cached in the database, in the ``staff`` table (``slack_user_id`` and
``updated_at``), for ``ttl``; every replica shares them. People the bot cannot serve (no
email visible, a domain outside both councils, bots, deleted accounts) are remembered in
memory for a few minutes only, to spare ``users.info`` calls without keeping them on file.

>>> person = await IdentityResolver(settings, db, client).resolve("U123")  # doctest: +SKIP
>>> person.email, person.council.key                                        # doctest: +SKIP
('sam.taylor@dacorum.gov.uk', 'dacorum')
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Council, Settings
from bot.storage import slack_users
from bot.storage import staff as staff_repo
from bot.storage.models import utcnow

if TYPE_CHECKING:
    from bot.storage import Database

log = logging.getLogger(__name__)

Problem = Literal["no_email", "outside", "bot", "unknown"]

TTL = timedelta(hours=24)
REFUSAL_TTL = timedelta(minutes=10)
_MAX_REMEMBERED = 10_000


@dataclass(frozen=True, slots=True)
class SlackPerson:
    user_id: str
    email: str | None = None
    display_name: str = ""
    council: Council | None = None
    #: why the bot cannot serve this person, or ``None``
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.email is not None and self.council is not None


class IdentityResolver:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        client: AsyncWebClient,
        *,
        ttl: timedelta = TTL,
        refusal_ttl: timedelta = REFUSAL_TTL,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.client = client
        self.ttl = ttl
        self.refusal_ttl = refusal_ttl
        self.clock = clock
        self._refused: OrderedDict[str, tuple[datetime, SlackPerson]] = OrderedDict()

    async def resolve(self, user_id: str) -> SlackPerson:
        now = self.clock()
        remembered = self._refused.get(user_id)
        if remembered is not None and remembered[0] > now:
            return remembered[1]
        cached = await self._cached(user_id, now)
        if cached is not None:
            return cached
        person = await self._lookup(user_id)
        if person.ok:
            await self._store(person, now)
        else:
            log.info("slack user %s cannot be served: %s", user_id, person.problem)
            self._refused[user_id] = (now + self.refusal_ttl, person)
            while len(self._refused) > _MAX_REMEMBERED:
                self._refused.popitem(last=False)
        return person

    async def _cached(self, user_id: str, now: datetime) -> SlackPerson | None:
        async with self.db.session() as session:
            staff = await slack_users.by_slack_user(session, user_id)
        if staff is None or now - staff.updated_at > self.ttl:
            return None
        council = self.settings.council_for_email(staff.email)
        if council is None:
            return None  # the councils' domains changed since: ask Slack again
        return SlackPerson(user_id, staff.email, staff.display_name, council)

    async def _lookup(self, user_id: str) -> SlackPerson:
        try:
            response = await self.client.users_info(user=user_id)
        except SlackApiError as exc:
            if exc.response.get("error") in {"user_not_found", "user_not_visible"}:
                return SlackPerson(user_id, problem="unknown")
            raise
        user: dict[str, Any] = response.get("user") or {}
        if user.get("is_bot") or user_id == "USLACKBOT":
            return SlackPerson(user_id, problem="bot")
        if user.get("deleted"):
            return SlackPerson(user_id, problem="unknown")
        profile: dict[str, Any] = user.get("profile") or {}
        name = str(
            profile.get("real_name") or user.get("real_name") or profile.get("display_name") or ""
        )[:200]
        email = str(profile.get("email") or "").strip().lower()
        if not email or "@" not in email:
            return SlackPerson(user_id, display_name=name, problem="no_email")
        council = self.settings.council_for_email(email)
        if council is None:
            return SlackPerson(user_id, email=email, display_name=name, problem="outside")
        return SlackPerson(user_id, email, name, council)

    async def _store(self, person: SlackPerson, now: datetime) -> None:
        assert person.email is not None and person.council is not None
        async with self.db.session() as session, session.begin():
            # the Slack account moved to another address: the old record lets go of it
            await slack_users.release_slack_user(session, person.user_id, keep_email=person.email)
            staff = await staff_repo.get_or_create(
                session,
                email=person.email,
                council=person.council.key,
                display_name=person.display_name,
                slack_user_id=person.user_id,
            )
            if person.display_name and staff.display_name != person.display_name:
                staff.display_name = person.display_name
            staff.updated_at = now
