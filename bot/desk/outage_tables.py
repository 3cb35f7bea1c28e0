"""The outage tables: report spikes, service notices, and who is linked to a notice.

A *spike* is several similar reports from distinct staff within a short window
(:mod:`bot.desk.spikes`); a *service notice* is what an agent publishes about it
(:mod:`bot.desk.notices`): text, products, councils and an expiry. Staff who add
themselves to a notice, and the tickets that arrive on it, are its *members*; the
notice's parent ticket stands for them all.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class OutageSpike(Base):
    """Similar reports from several people close together: alerted once."""

    __tablename__ = "outage_spikes"
    __table_args__ = (Index("ix_outage_spikes_category", "category", "last_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(32))
    #: the products the reports name (``Outlook``), or the category's label
    products: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: the councils of the people reporting
    councils: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: the first report's time and the latest's
    first_at: Mapped[datetime] = mapped_column()
    last_at: Mapped[datetime] = mapped_column()
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the notice published about it (``None``: not yet)
    notice_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_notices.id", ondelete="SET NULL"), default=None
    )
    #: an agent decided it needs no notice
    dismissed_at: Mapped[datetime | None] = mapped_column(default=None)


class SpikeReport(Base):
    """One ticket counted in a spike (a ticket is in at most one)."""

    __tablename__ = "outage_spike_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    spike_id: Mapped[int] = mapped_column(ForeignKey("outage_spikes.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), unique=True
    )


class ServiceNotice(Base):
    """A known problem, told to the staff of its councils while it stands."""

    __tablename__ = "service_notices"
    __table_args__ = (Index("ix_service_notices_standing", "ended_at", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    products: Mapped[list[str]] = mapped_column(JSON, default=list)
    councils: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: the ticket category it is about ("" for any)
    category: Mapped[str] = mapped_column(String(32), default="")
    #: since when the problem is known (the spike's first report, or publication)
    since: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(320))
    #: the ticket that stands for everyone affected; closing it tells them all
    parent_ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), default=None
    )


class NoticeMember(Base):
    """Someone affected by a notice: added themselves, or raised a ticket on it."""

    __tablename__ = "notice_members"
    __table_args__ = (UniqueConstraint("notice_id", "staff_id", name="uq_notice_members"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("service_notices.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    #: their own ticket, linked to the parent (``None``: they added themselves instead)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), default=None
    )
    #: where they were when they joined, to tell them when it is fixed
    channel: Mapped[str] = mapped_column(String(32), default="web")
    thread: Mapped[str] = mapped_column(String(128), default="")
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: told that the problem is fixed
    told_at: Mapped[datetime | None] = mapped_column(default=None)
    note: Mapped[str] = mapped_column(String(200), default="")
