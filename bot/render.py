"""Rendering: the one Jinja environment, escaping filters, and safe markdown-to-HTML.

>>> env = build_environment()
>>> env.from_string("{{ x }}", globals={}).render(x="<b>")  # autoescaped in .html templates only
'<b>'
>>> mrkdwn_escape("a < b & c")
'a &lt; b &amp; c'
"""

from __future__ import annotations

import functools
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

    The HTML depends only on the markdown and where each of its relative links leads, so
    it is cached on exactly that: a turn that answers with an article no longer parses,
    renders and sanitises it again (about a fifth of a web chat turn's time on the event
    loop), and an edited article or a link that now leads elsewhere is a new key.
    """
    if len(markdown) > _CACHE_UP_TO:
        return _render(markdown, _targets(markdown, resolve_link))
    return _cached_render(markdown, _targets(markdown, resolve_link))


#: bodies longer than this are rendered each time: 256 cached bodies stay under ~10 MB
_CACHE_UP_TO = 16 * 1024


def _targets(markdown: str, resolve_link: LinkResolver | None) -> tuple[str | None, ...]:
    """Where each relative link of ``markdown`` leads now, in order (``None``: nowhere)."""
    if resolve_link is None:
        return ()
    hrefs = _relative_links(markdown) if len(markdown) <= _CACHE_UP_TO else _links_of(markdown)
    return tuple(resolve_link(href) for href in hrefs)


def _links_of(markdown: str) -> tuple[str, ...]:
    found: list[str] = []
    _walk_links(_markdown_it().parse(markdown), found.append)
    return tuple(found)


_relative_links = functools.lru_cache(maxsize=256)(_links_of)


def _render(markdown: str, targets: tuple[str | None, ...]) -> Markup:
    md = _markdown_it()
    tokens = md.parse(markdown)
    if targets:
        leads = iter(targets)
        _walk_links(tokens, lambda _: next(leads), rewrite=True)
    html = md.renderer.render(tokens, md.options, {})
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 on the line above


_cached_render = functools.lru_cache(maxsize=256)(_render)


@functools.cache
def _markdown_it() -> MarkdownIt:
    """The one parser (built on first use; parsing and rendering keep no state in it)."""
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def _is_relative(href: str) -> bool:
    return "://" not in href and not href.startswith(("mailto:", "tel:", "#", "/"))


def _walk_links(
    tokens: Sequence[Token], visit: Callable[[str], str | None], *, rewrite: bool = False
) -> None:
    """Call ``visit`` on each relative link's href in document order; with ``rewrite``,
    point the link where ``visit`` says (when it says somewhere)."""
    for token in tokens:
        if token.children:
            _walk_links(token.children, visit, rewrite=rewrite)
        if token.type == "link_open":
            href = str(token.attrGet("href") or "")
            if _is_relative(href):
                target = visit(href)
                if rewrite and target is not None:
                    token.attrSet("href", target)


def rewrite_links(tokens: Sequence[Token], resolve_link: LinkResolver) -> None:
    """Point the relative links among parsed markdown ``tokens`` where ``resolve_link`` says."""
    _walk_links(tokens, resolve_link, rewrite=True)


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
