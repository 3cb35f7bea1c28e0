"""The small value types settings hold: secrets, councils, and the fixed choices."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SemanticMode = Literal["auto", "on", "off"]
ServiceDeskKind = Literal["rt", "jira", "servicenow"]


@dataclass(frozen=True, slots=True)
class Secret:
    """A value that must never be printed or logged: ``repr`` and ``str`` hide it.

    >>> Secret("xoxb-1"), Secret("xoxb-1").reveal()
    (Secret('********'), 'xoxb-1')
    """

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def reveal(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Council:
    """One council of the partnership: its key, display name, staff domains, desk contact."""

    key: str
    name: str
    domains: tuple[str, ...]
    desk_phone: str
    desk_email: str

    def owns(self, email: str) -> bool:
        domain = email.rpartition("@")[2].lower()
        return any(domain == d or domain.endswith("." + d) for d in self.domains)


DEFAULT_COUNCILS: tuple[Council, ...] = (
    Council(
        key="aylesbury-vale",
        name="Aylesbury Vale District Council",
        domains=("aylesburyvaledc.gov.uk",),
        desk_phone="01632 960 100",
        desk_email="ictservicedesk@aylesburyvaledc.gov.uk",
    ),
    Council(
        key="dacorum",
        name="Dacorum Borough Council",
        domains=("dacorum.gov.uk",),
        desk_phone="01632 960 200",
        desk_email="ictservicedesk@dacorum.gov.uk",
    ),
)
