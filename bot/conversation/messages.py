"""What a channel hands the engine, and what the engine hands back. No channel details here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.conversation.actions import Action

MAX_TEXT = 4000  # characters of a message the bot reads; the rest is ignored (and said so)


@dataclass(frozen=True, slots=True)
class Incoming:
    """One thing a person did: typed ``text`` or pressed a button (``press``, already parsed).

    ``email`` identifies the person (channels resolve it: web session, ``--as``,
    Slack ``users.info``); ``thread`` separates parallel conversations of one person.
    ``proven`` says the channel proved that email (Slack's verified profile, the operator's
    terminal, an SSO header, a code sent to the mailbox); a typed, unproven address may ask
    questions but sees no ticket, raises none and resets nothing, and never has agent powers.
    ``forms`` says the channel offers :attr:`Reply.form` as a form of its own (Slack's
    modals), so a secret shown in reply to it never enters the chat's history.
    """

    channel: str
    email: str
    text: str = ""
    thread: str = ""
    press: Action | None = None
    display_name: str = ""
    proven: bool = False
    #: the channel can show a form (a Slack modal) for :attr:`Reply.form` and private
    #: replies inside it; a flow then asks for secrets there rather than in the chat
    forms: bool = False
    #: only this person sees the replies here (the web chat, the terminal, a Slack DM or
    #: a slash command's answer): ticket news kept for them is shown here, never in a
    #: channel others read
    personal: bool = False


@dataclass(frozen=True, slots=True)
class Button:
    """A button under a reply: pressing it sends ``action`` back."""

    label: str
    action: Action
    style: Literal["default", "primary", "danger"] = "default"
    #: a typed "yes" presses it when it is the only button offered ("...contact the desk"
    #: with **Raise a ticket**), or the yes of a question's yes and no; never for a button
    #: whose yes could mean something else
    yes: bool = False
    #: a typed "no" presses it when it is the no of a question offered as a yes and a no
    #: ("Do you still have the old phone?")
    no: bool = False


@dataclass(frozen=True, slots=True)
class ArticleCard:
    """An answer from the knowledge base: rendered with a link to ``/kb/<article_id>``."""

    article_id: str
    title: str
    summary: str
    body_markdown: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """One message from the bot. ``text`` is plain text and always present."""

    text: str
    cards: tuple[ArticleCard, ...] = ()
    buttons: tuple[Button, ...] = ()
    #: for the asker's eyes only, never kept (a temporary password): shown in the terminal,
    #: in the web page, in a Slack modal; the transcript keeps ``kept_as`` instead
    private: bool = False
    kind: Literal["answer", "question", "info", "error"] = "info"
    notes: tuple[str, ...] = field(default=())
    kept_as: str = ""
    #: a form a channel may offer for the answer (``<flow>:<verb>``, e.g. a code form as a
    #: Slack modal, so the code stays out of the chat's history); others let people type
    form: str = ""
