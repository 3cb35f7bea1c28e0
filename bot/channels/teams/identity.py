"""Who is asking: a Teams user → the member lookup's email / UPN → staff record and council.

The Bot Connector's token proves the activity came from Teams for this user in this
conversation; the member lookup (``GET {serviceUrl}v3/conversations/{id}/members/{user}``)
gives their email (or UPN) and Entra object id, from the tenant's directory. The council
follows the email's domain. The answer is kept in the ``teams_conversations`` table for
:data:`TTL` (with where the person's personal chat is, for later news); people the bot
cannot serve are remembered in memory only, for a few minutes.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from bot.channels.teams.connector import Connector, DeliveryError
from bot.settings import Council, Settings
from bot.storage import staff as staff_repo
from bot.storage import teams_conversations
from bot.storage.models import Staff, utcnow

if TYPE_CHECKING:
    from bot.storage import Database

log = logging.getLogger(__name__)

Problem = Literal["no_email", "outside", "tenant"]

TTL = timedelta(hours=24)
REFUSAL_TTL = timedelta(minutes=10)
_MAX_REMEMBERED = 10_000


@dataclass(frozen=True, slots=True)
class Where:
    """Where an activity came from (all from the validated activity)."""

    user_id: str
    aad_object_id: str
    tenant_id: str
    service_url: str
    conversation_id: str
    personal: bool


@dataclass(frozen=True, slots=True)
class TeamsPerson:
    user_id: str
    email: str | None = None
    display_name: str = ""
    council: Council | None = None
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.email is not None and self.council is not None


class IdentityResolver:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        connector: Connector,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.connector = connector
        self.clock = clock
        self._refused: OrderedDict[str, tuple[datetime, TeamsPerson]] = OrderedDict()

    async def resolve(self, where: Where) -> TeamsPerson:
        now = self.clock()
        tenant = self.settings.teams_tenant_id
        if tenant and where.tenant_id and where.tenant_id.lower() != tenant.lower():
            log.info("teams user %s is from another tenant", where.user_id[:40])
            return TeamsPerson(where.user_id, problem="tenant")
        remembered = self._refused.get(where.user_id)
        if remembered is not None and remembered[0] > now:
            return remembered[1]
        async with self.db.session() as session, session.begin():
            row = await teams_conversations.by_user(session, where.user_id)
            staff = await session.get(Staff, row.staff_id) if row is not None else None
            if row is not None and staff is not None and now - row.updated_at <= TTL:
                council = self.settings.council_for_email(staff.email)
                if council is not None:
                    if where.personal and row.conversation_id != where.conversation_id:
                        row.conversation_id = where.conversation_id
                        row.service_url = where.service_url
                    return TeamsPerson(where.user_id, staff.email, staff.display_name, council)
        person = await self._lookup(where)
        if person.ok:
            await self._store(person, where, now)
        else:
            log.info("teams user %s cannot be served: %s", where.user_id[:40], person.problem)
            self._refused[where.user_id] = (now + REFUSAL_TTL, person)
            while len(self._refused) > _MAX_REMEMBERED:
                self._refused.popitem(last=False)
        return person

    async def _lookup(self, where: Where) -> TeamsPerson:
        try:
            member = await self.connector.member(
                where.service_url, where.conversation_id, where.user_id
            )
        except DeliveryError as exc:
            if not exc.final:
                raise  # the Bot Connector is failing: the activity is sent again later
            log.info("teams member lookup refused (%s)", exc)
            return TeamsPerson(where.user_id, problem="no_email")
        name = str(member.get("name") or member.get("givenName") or "")[:200]
        email = str(member.get("email") or member.get("userPrincipalName") or "")
        email = email.strip().lower()
        if not email or "@" not in email:
            return TeamsPerson(where.user_id, display_name=name, problem="no_email")
        council = self.settings.council_for_email(email)
        if council is None:
            return TeamsPerson(where.user_id, email=email, display_name=name, problem="outside")
        return TeamsPerson(where.user_id, email, name, council)

    async def _store(self, person: TeamsPerson, where: Where, now: datetime) -> None:
        assert person.email is not None and person.council is not None
        async with self.db.session() as session, session.begin():
            staff = await staff_repo.get_or_create(
                session,
                email=person.email,
                council=person.council.key,
                display_name=person.display_name,
            )
            if person.display_name and staff.display_name != person.display_name:
                staff.display_name = person.display_name
            await teams_conversations.remember(
                session,
                user_id=where.user_id,
                staff_id=staff.id,
                aad_object_id=where.aad_object_id,
                tenant_id=where.tenant_id,
                service_url=where.service_url,
                conversation_id=where.conversation_id if where.personal else None,
                now=now,
            )
