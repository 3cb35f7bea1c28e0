"""Replies → Block Kit, through the templates in ``bot/templates/slack/``.

Python prepares what the templates show (button values that carry the conversation, article
bodies converted to mrkdwn and split to Slack's limits, absolute links); the templates
decide the blocks and escape every piece of text with the ``mrkdwn`` filter. Every message
has a plain ``text`` fallback for notifications and screen readers.

>>> renderer = SlackRenderer(build_environment(), Settings())                 # doctest: +SKIP
>>> renderer.message([Reply("Hello & welcome")], thread="dm")["text"]        # doctest: +SKIP
'Hello &amp; welcome'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment

from bot.channels.slack import jobs
from bot.channels.slack import wording as slack_wording
from bot.channels.slack.mrkdwn import chunks, to_mrkdwn
from bot.conversation.actions import FlowCommand, decode_action
from bot.conversation.messages import ArticleCard, Button, Reply
from bot.flows.answer import show_article_action
from bot.render import ArticleLinks, LinkResolver, article_link_resolver, article_url
from bot.settings import Settings

MAX_BLOCKS = 50
MAX_STEP_SECTIONS = 4
MAX_LABEL = 75


def base_url(settings: Settings) -> str:
    """Where people's browsers reach the bot's article pages.

    ``public_url`` when the settings have one (``ITBOT_PUBLIC_URL``), else host and port.
    """
    return settings.base_url


@dataclass(frozen=True, slots=True)
class ButtonView:
    label: str
    action_id: str
    value: str
    style: str


@dataclass(frozen=True, slots=True)
class CardView:
    title: str
    summary: str
    steps: tuple[str, ...]
    more: bool
    url: str
    link_action_id: str


@dataclass(frozen=True, slots=True)
class PartView:
    text: str
    cards: tuple[CardView, ...]
    buttons: tuple[ButtonView, ...]
    notes: tuple[str, ...]
    block_id: str


class SlackRenderer:
    def __init__(
        self,
        env: Environment,
        settings: Settings,
        links: Callable[[], ArticleLinks | None] = lambda: None,
    ) -> None:
        self.env = env
        self.settings = settings
        self.links = links

    # -- messages ------------------------------------------------------------------------

    def message(self, replies: Sequence[Reply], *, thread: str) -> dict[str, Any]:
        """One Slack message (``text`` + ``blocks``) showing every reply of one turn."""
        counter = iter(range(1, 1000))
        parts = tuple(
            self._part(reply, thread, index, counter) for index, reply in enumerate(replies)
        )
        rendered = self._render("slack/message.json.j2", parts=parts)
        rendered["blocks"] = rendered["blocks"][:MAX_BLOCKS]
        return rendered

    def text(self, text: str) -> dict[str, Any]:
        return self.message([Reply(text)], thread="")

    def choice_made(
        self, blocks: Sequence[dict[str, Any]], block_id: str, label: str
    ) -> list[dict[str, Any]]:
        """The pressed message with the pressed row of buttons replaced by what was chosen."""
        choice = self._render("slack/choice.json.j2", label=label)
        return [choice if block.get("block_id") == block_id else block for block in blocks]

    def _part(self, reply: Reply, thread: str, index: int, counter: Any) -> PartView:
        buttons = tuple(self._button(b, thread, next(counter)) for b in reply.buttons)
        form = decode_action(reply.form) if reply.form else None
        if isinstance(form, FlowCommand):
            # a form for the answer (a code): a modal, opened by this button (see ``codeform``)
            enter = ButtonView(
                label=slack_wording.ENTER_CODE,
                action_id=jobs.CODE_FORM_ID,
                value=jobs.encode_value(form, thread),
                style="primary",
            )
            buttons = (enter, *buttons)
        return PartView(
            text=reply.text,
            cards=tuple(self._card(card, next(counter)) for card in reply.cards),
            buttons=buttons,
            notes=reply.notes,
            block_id=f"reply-{index}-buttons",
        )

    def _button(self, button: Button, thread: str, n: int) -> ButtonView:
        label = button.label if len(button.label) <= MAX_LABEL else button.label[:74] + "…"
        return ButtonView(
            label=label,
            action_id=f"{jobs.ACTION_PREFIX}{n}",
            value=jobs.encode_value(button.action, thread),
            style=button.style,
        )

    def _card(self, card: ArticleCard, n: int) -> CardView:
        steps = chunks(to_mrkdwn(card.body_markdown, self._resolver(card.article_id)))
        return CardView(
            title=card.title,
            summary=card.summary,
            steps=tuple(steps[:MAX_STEP_SECTIONS]),
            more=len(steps) > MAX_STEP_SECTIONS,
            url=self.article_url(card.article_id),
            link_action_id=f"{jobs.LINK_PREFIX}{n}",
        )

    def article_url(self, article_id: str) -> str:
        return article_url(article_id, base_url(self.settings))

    def _resolver(self, article_id: str) -> LinkResolver:
        return article_link_resolver(self.links(), article_id, base_url(self.settings))

    # -- views ---------------------------------------------------------------------------

    def home(self, **context: Any) -> dict[str, Any]:
        """The App Home tab (see ``templates/slack/home.json.j2`` for what ``context`` holds)."""
        menu: Sequence[Button] = context.pop("menu", ())
        counter = iter(range(1, 1000))
        context["menu"] = tuple(self._button(b, jobs.DM_THREAD, next(counter)) for b in menu)
        context["articles"] = tuple(
            {
                "title": a["title"],
                "summary": a["summary"],
                "url": self.article_url(a["id"]),
                "button": self._button(
                    Button("Show me", show_article_action(a["id"])), jobs.DM_THREAD, next(counter)
                ),
            }
            for a in context.get("articles", ())
        )
        view = self._render("slack/home.json.j2", **context)
        view["blocks"] = view["blocks"][:100]
        return view

    def view(self, template: str, **context: Any) -> dict[str, Any]:
        """A modal from ``templates/<template>`` (see ``codeform``)."""
        return self._render(template, **context)

    def ticket_form(self, **context: Any) -> dict[str, Any]:
        """The ticket form modal (``templates/slack/ticket_form.json.j2``; see ``forms``)."""
        return self._render("slack/ticket_form.json.j2", **context)

    def _render(self, name: str, **context: Any) -> dict[str, Any]:
        data = json.loads(self.env.get_template(name).render(**context))
        if not isinstance(data, dict):
            raise TypeError(f"{name} must render a JSON object")
        return data
