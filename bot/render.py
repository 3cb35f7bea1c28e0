"""Rendering: the one Jinja environment, escaping filters, and safe markdown-to-HTML.

>>> env = build_environment()
>>> env.from_string("{{ x }}", globals={}).render(x="<b>")  # autoescaped in .html templates only
'<b>'
>>> mrkdwn_escape("a < b & c")
'a &lt; b &amp; c'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import nh3
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

TEMPLATES = Path(__file__).with_name("templates")

#: tags and attributes article HTML may keep after sanitising
_TAGS = {
    "a", "p", "br", "hr", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "img",
    "div", "span", "del",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "div": {"class"},
               "th": {"align"}, "td": {"align"}, "ol": {"start"}}  # fmt: skip


def mrkdwn_escape(text: object) -> str:
    """Escape text for Slack mrkdwn: only ``&``, ``<`` and ``>`` are special."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


LinkResolver = Callable[[str], str | None]


class ArticleLinks(Protocol):
    """What rendering needs of the knowledge base: relative links between articles."""

    def get(self, article_id: str) -> Any: ...

    def resolve_link(self, article: Any, href: str) -> str | None: ...


def article_url(article_id: str, base: str = "") -> str:
    """Where an article's page is: ``/kb/<id>``, absolute when ``base`` is given.

    >>> article_url("email/x", "https://itbot.example")
    'https://itbot.example/kb/email/x'
    """
    return f"{base}/kb/{article_id}"


def article_link_resolver(
    links: ArticleLinks | None, article_id: str, base: str = ""
) -> LinkResolver:
    """Maps a relative link in article ``article_id`` (``../email/x.md``) to the page of
    the article it points at (``{base}/kb/email/x``); ``None`` when it points at none."""

    def resolve(href: str) -> str | None:
        if links is None:
            return None
        article = links.get(article_id)
        target = links.resolve_link(article, href) if article is not None else None
        return article_url(target, base) if target else None

    return resolve


def markdown_to_html(markdown: str, resolve_link: LinkResolver | None = None) -> Markup:
    """Article markdown to sanitised HTML. Raw HTML in the markdown is shown as text.

    ``resolve_link`` maps a relative link (``../email/x.md``) to a URL (``/kb/email/x``).
    """
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    tokens = md.parse(markdown)
    if resolve_link is not None:
        rewrite_links(tokens, resolve_link)
    html = md.renderer.render(tokens, md.options, {})
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 on the line above


def rewrite_links(tokens: Sequence[Token], resolve_link: LinkResolver) -> None:
    """Point the relative links among parsed markdown ``tokens`` where ``resolve_link`` says."""
    for token in tokens:
        if token.children:
            rewrite_links(token.children, resolve_link)
        if token.type == "link_open":
            href = str(token.attrGet("href") or "")
            if "://" not in href and not href.startswith(("mailto:", "tel:", "#", "/")):
                target = resolve_link(href)
                if target is not None:
                    token.attrSet("href", target)


def build_environment() -> Environment:
    """The one Jinja environment: HTML autoescaped, text templates not, undefined is an error."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["mrkdwn"] = mrkdwn_escape
    env.filters["markdown"] = markdown_to_html
    return env
