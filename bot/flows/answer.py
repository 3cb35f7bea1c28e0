"""Answer from the knowledge base: one clear article, a choice of 2–3, or an honest decline."""

from __future__ import annotations

import dataclasses

from bot import wording
from bot.conversation.actions import ChooseIntent, FlowCommand
from bot.conversation.messages import ArticleCard, Button, Reply
from bot.conversation.text import DETAIL_VERB, FOLLOW_UP_VERB, PARTLY
from bot.facts import DeskFacts
from bot.flows import notices, tickets
from bot.flows.answer_text import (
    HELPFUL_NO,
    HELPFUL_PARTLY,
    HELPFUL_YES,
    NO_BETTER_GUIDE,
    STILL_THE_GUIDE,
)
from bot.flows.base import NOT_FOR_ME, Flow, FlowContext, FlowRegistry, NotForMe, State, Step
from bot.flows.ticket_text import names_a_problem
from bot.redaction import redact
from knowledge import Article

NAME = "answer"
#: the most of an article's markdown one chat reply carries; a longer one is cut at a
#: paragraph and ends with a link to its full page
MAX_REPLY_ARTICLE_CHARS = 4000
#: the detector's "not IT" at this probability (or more) declines even a guide the search
#: was sure of, when the question has no IT word and the detector has its embeddings: on
#: the staff-phrased development sets (tests/knowledge/kb_dev_questions.jsonl and both
#: kb_staff_questions.jsonl), no in-scope question the search answered was "not IT" to it
#: at 0.95 or more without an IT word (lexical-only, three were: "how do i switch off my
#: holiday reply" at 0.99)
SURELY_NOT_IT = 0.95


def card(ctx: FlowContext, article: Article) -> ArticleCard:
    """``article`` as the asker's council sees it, with the desk's facts filled in."""
    facts = DeskFacts.of(ctx.services.settings, ctx.services.desk.policy.calendar)
    return article_card(article, ctx.asker.council, facts)


def article_card(article: Article, council: str, facts: DeskFacts) -> ArticleCard:
    """``article`` as ``council`` sees it, with the desk's ``facts`` filled in."""
    return ArticleCard(
        article_id=article.id,
        title=facts.render(article.title, council),
        summary=facts.render(article.summary, council),
        body_markdown=_capped(article, facts.body(article, council)),
    )


def _capped(article: Article, markdown: str) -> str:
    if len(markdown) <= MAX_REPLY_ARTICLE_CHARS:
        return markdown
    cut = markdown.rfind("\n\n", 0, MAX_REPLY_ARTICLE_CHARS)
    if cut < MAX_REPLY_ARTICLE_CHARS // 2:
        cut = markdown.rfind("\n", 0, MAX_REPLY_ARTICLE_CHARS)
    if cut < MAX_REPLY_ARTICLE_CHARS // 2:
        cut = MAX_REPLY_ARTICLE_CHARS
    kept = markdown[:cut].rstrip()
    fences = sum(1 for line in kept.splitlines() if line.lstrip().startswith(("```", "~~~")))
    if fences % 2:  # cut inside a code block: close it so the link stays a link
        kept += "\n```"
    own = article.id.rsplit("/", 1)[-1] + ".md"  # a link to itself: every channel resolves it
    return kept + "\n\n" + wording.article_cut(own)


#: the most of a question a feedback button carries (a ticket's summary is shorter still)
MAX_ASKED = 200


def feedback_buttons(article_id: str, question: str = "") -> tuple[Button, ...]:
    """ "Was this helpful?": ``no:<article id>[:<question>]``, the question (redacted, as a
    press is kept) for the ticket a No offers, so it isn't typed again."""
    asked = f":{redact(question)[:MAX_ASKED]}" if question else ""
    return (
        Button("Yes", FlowCommand(NAME, "feedback", f"yes:{article_id}")),
        Button("No", FlowCommand(NAME, "feedback", f"no:{article_id}{asked}")),
    )


def show_article_action(article_id: str, question: str = "") -> FlowCommand:
    """The press that shows one article (from a choice of articles, or Slack's Home tab):
    ``<article id>[:<question>]``, the question (redacted) carried on to its feedback
    buttons, so a No's ticket starts from it."""
    asked = f":{redact(question)[:MAX_ASKED]}" if question else ""
    return FlowCommand(NAME, "article", f"{article_id}{asked}")


def _contact(ctx: FlowContext) -> str:
    settings = ctx.services.settings
    return wording.contact(settings, settings.council(ctx.asker.council))


def _answer(ctx: FlowContext, article: Article, outcome: str, question: str = "") -> Step:
    buttons = feedback_buttons(article.id, question)
    return Step(
        replies=(
            Reply(wording.ANSWER, cards=(card(ctx, article),), kind="answer"),
            Reply(wording.HELPFUL_Q, buttons=buttons, kind="question"),
        ),
        outcome=outcome,
        details={"articles": [article.id]},
    )


async def start(ctx: FlowContext, shown: str = "") -> Step:
    """Answer ``ctx.text``; ``shown`` is the guide just given, when the text adds to the
    question it answered."""
    asks_known = ctx.prediction is not None and ctx.prediction.asks_known_problems
    if asks_known and (listed := await notices.known_problems(ctx)) is not None:
        return listed  # "is anything down?": the notices standing, or that none is
    step = await _search(ctx, shown)
    # a known problem (a service notice) is told first, before any answer
    notice = await notices.standing_for(ctx, ctx.text)
    if notice is None and asks_known and (none := notices.none_for(ctx)) is not None:
        return Step((none, *step.replies), outcome=step.outcome, details=step.details)
    if notice is None or step.outcome == "out_of_scope":
        return step
    details = {**step.details, "notice": notice.id}
    return Step((notices.told_first(notice), *step.replies), outcome=step.outcome, details=details)


async def _search(ctx: FlowContext, shown: str = "") -> Step:
    result = await ctx.services.knowledge.search(ctx.text, ctx.asker.council)
    details: dict[str, object] = {
        "decision": result.decision,
        "kb_confidence": round(result.confidence, 3),
    }
    best = result.candidates[0].article if result.candidates else None
    if shown and result.decision == "answer" and best is not None and best.id == shown:
        # "it's a Dell" finds the guide just shown: said, not the same guide twice; its
        # rating carries the whole question, so a No's ticket starts from it
        still = STILL_THE_GUIDE.format(title=card(ctx, best).title)
        return Step(
            (Reply(still, buttons=feedback_buttons(best.id, ctx.text), kind="question"),),
            outcome="same_guide",
            details={**details, "articles": [best.id]},
        )
    # the detector's "not IT" stands unless the question is clearly about IT (its words,
    # spelling mended against the knowledge base, or an error code): then a ticket is offered.
    # A guide the search is sure of is shown, unless a rule said "not IT" ("locked out of my
    # car"), or the detector is sure and no word is IT's ("how do I book leave": not the
    # leavers' guide).
    not_it = ctx.prediction if ctx.prediction and ctx.prediction.intent == "out_of_scope" else None
    out_of_scope = not_it is not None and (bool(not_it.rules) or not result.about_it)
    sure = ctx.services.detector.uses_embeddings  # lexical-only, it's sure too often
    surely_not = (
        out_of_scope
        and not_it is not None
        and (bool(not_it.rules) or (sure and not_it.confidence >= SURELY_NOT_IT))
    )
    if result.decision == "answer" and result.candidates and not surely_not:
        step = _answer(ctx, result.candidates[0].article, "answered", ctx.text)
        return Step(step.replies, outcome=step.outcome, details={**details, **step.details})
    if result.decision == "choose" and result.candidates and not out_of_scope:
        buttons = [
            Button(h.article.title, show_article_action(h.article.id, ctx.text))
            for h in result.candidates
        ]
        # the question rides in the button (and is kept with the press): redacted
        none = FlowCommand(NAME, "none", redact(ctx.text)[:MAX_ASKED])
        buttons.append(Button(wording.NONE_OF_THESE, none))
        return Step(
            (Reply(wording.CHOOSE, buttons=tuple(buttons), kind="question"),),
            outcome="offered_articles",
            details={**details, "articles": [h.article.id for h in result.candidates]},
        )
    desk = ctx.services.settings.desk_name
    if out_of_scope:
        return Step(
            (Reply(wording.OUT_OF_SCOPE.format(desk=desk)),),
            outcome="out_of_scope",
            details=details,
        )
    decline = wording.DECLINE.format(desk=desk, contact=_contact(ctx))
    if result.unknown_codes:  # an error code no guide has: the desk, not another wording
        codes = " / ".join(c.upper() for c in result.unknown_codes)
        decline = wording.NO_GUIDE_FOR_CODE.format(
            codes=f"error {codes}", desk=desk, contact=_contact(ctx)
        )
        details["unknown_codes"] = list(result.unknown_codes)
    return Step(
        (
            Reply(
                decline,
                buttons=(
                    Button("Raise a ticket", tickets.raise_about(ctx.text)),
                    Button("Talk to someone", ChooseIntent("talk_to_human")),
                ),
            ),
        ),
        outcome="declined",
        details=details,
    )


async def detail(ctx: FlowContext) -> Step | NotForMe:
    """A short detail added after a guide ("it's a Dell"): ``<article id>:<whole question>``,
    answered as the whole question (:func:`bot.conversation.text.adds_to_guide`)."""
    shown, _, whole = ctx.text.partition(":")
    return await start(dataclasses.replace(ctx, text=whole), shown)


async def follow_up(ctx: FlowContext) -> Step | NotForMe:
    """A question about "it" straight after a guide: ``<article id>:<question>\\n<asked>``.
    Its own answer when that is in the guide's field ("can I stop sharing it" after sharing
    a file: *Stop sharing a file*); else it is read with the guide's question ("how do I
    turn it off" after the out-of-office guide; "how do I stop sharing it" after sharing a
    calendar, whose own answer, about files, is another field's)."""
    head, _, asked = ctx.text.partition("\n")
    shown, _, question = head.partition(":")
    guide = ctx.services.knowledge.kb.get(shown)
    alone = await ctx.services.knowledge.search(asked, ctx.asker.council)
    best = alone.candidates[0].article if alone.candidates else None
    same_field = guide is not None and best is not None and set(best.products) & set(guide.products)
    if alone.decision == "answer" and best is not None and best.id != shown and same_field:
        return _answer(ctx, best, "answered", asked)
    return await start(dataclasses.replace(ctx, text=f"{question}, {asked}"), shown)


async def show_article(ctx: FlowContext) -> Step | NotForMe:
    article_id, _, question = ctx.text.partition(":")
    article = ctx.services.knowledge.kb.get(article_id)
    if article is None or not article.applies_to(ctx.asker.council):
        return Step((Reply(wording.ARTICLE_GONE),), outcome="article_gone")
    return _answer(ctx, article, "chose_article", question)


async def none_of_these(ctx: FlowContext) -> Step | NotForMe:
    desk = ctx.services.settings.desk_name
    return Step(
        (
            Reply(
                wording.NONE_OF_THESE_REPLY.format(desk=desk, contact=_contact(ctx)),
                buttons=(Button("Raise a ticket", tickets.raise_about(ctx.text), yes=True),),
            ),
        ),
        outcome="none_of_these",
        details={"question": ctx.text},
    )


async def feedback(ctx: FlowContext) -> Step | NotForMe:
    verdict, _, rest = ctx.text.partition(":")
    article_id, _, question = rest.partition(":")
    helpful = verdict == "yes"
    details = {"article": article_id, "helpful": helpful}
    if helpful:
        return Step((Reply(HELPFUL_YES),), outcome="feedback", details=details)
    desk = ctx.services.settings.desk_name
    reply = Reply(
        HELPFUL_NO.format(desk=desk, contact=_contact(ctx)), buttons=(_raise_button(question),)
    )
    # what's typed next may say more about it (see :func:`after_no`)
    ctx.data.update(article=article_id, question=question)
    return Step((reply,), next="after_no", outcome="feedback", details=details)


def _raise_button(question: str) -> Button:
    # the ticket starts from the question the guide didn't answer, when there is one
    ticket = tickets.raise_about(question) if question else ChooseIntent("raise_ticket")
    return Button("Raise a ticket", ticket, yes=True)


async def partly(ctx: FlowContext) -> Step | NotForMe:
    """ "kind of" to "Was this helpful?": ``<article id>[:<question>]``. The editors count it
    with the Noes; the person is asked what's still not right, and what they say is looked
    up with the question (:func:`still`)."""
    article_id, _, question = ctx.text.partition(":")
    ctx.data.update(article=article_id, question=question)
    desk = ctx.services.settings.desk_name
    reply = Reply(
        HELPFUL_PARTLY.format(desk=desk, contact=_contact(ctx)),
        buttons=(_raise_button(question),),
        kind="question",
    )
    details = {"article": article_id, "helpful": False, "partly": True}
    return Step((reply,), next="still", outcome="feedback", details=details)


async def still(ctx: FlowContext) -> Step | NotForMe:
    """What's still not right after a guide that half helped: looked up with the question
    it half answered; the same guide again is no answer, so the desk is offered."""
    if ctx.incoming.press is not None or not ctx.text.strip() or ctx.new_request:
        return NOT_FOR_ME
    question = str(ctx.data.get("question", ""))
    whole = f"{question}, {ctx.text.strip()}" if question else ctx.text.strip()
    shown = str(ctx.data.get("article", ""))
    step = await start(dataclasses.replace(ctx, text=whole), shown)
    return _no_better(ctx, step, shown, whole)


async def after_no(ctx: FlowContext) -> Step | NotForMe:
    """What's typed after a No to a guide, looked up as a question of its own; but the guide
    just rated No is no answer to it ("it still won't send after I removed the attachment"
    found the Outbox guide again), so the desk is offered, the ticket starting from both."""
    said, prediction = ctx.text.strip(), ctx.prediction
    if ctx.incoming.press is not None or not said or prediction is None:
        return NOT_FOR_ME
    shown, question = str(ctx.data.get("article", "")), str(ctx.data.get("question", ""))
    if prediction.intent == "raise_ticket" and question and not names_a_problem(said):
        ctx.text = question  # "raise a ticket, please": about what the guide didn't answer
        return Step((), outcome="ticket_for_the_question", handoff="raise_ticket")
    if ctx.new_request:
        return NOT_FOR_ME
    whole = f"{question}, {said}" if question else said
    if prediction.not_fixed:  # "it still doesn't work": what the No said, again
        return _no_better(ctx, Step((), outcome="same_guide"), shown, whole)
    if prediction.intent not in {"question", "out_of_scope"}:
        return NOT_FOR_ME  # "thanks", "hello", "raise a ticket": what they always are
    return _no_better(ctx, await start(ctx, shown), shown, whole)


def _no_better(ctx: FlowContext, step: Step, shown: str, whole: str) -> Step:
    """``step``, unless it is the guide ``shown`` again: then the desk, for ``whole``."""
    article = ctx.services.knowledge.kb.get(shown)
    if step.outcome != "same_guide" or article is None:
        return step
    desk = ctx.services.settings.desk_name
    title = card(ctx, article).title
    reply = Reply(
        NO_BETTER_GUIDE.format(title=title, desk=desk, contact=_contact(ctx)),
        buttons=(_raise_button(whole), Button("Talk to someone", ChooseIntent("talk_to_human"))),
    )
    # still listening: "raise a ticket please" typed starts from the whole question too
    ctx.data.update(article=shown, question=whole)
    return Step((reply,), next="after_no", outcome="no_better_guide", details=step.details)


def register(registry: FlowRegistry) -> None:
    registry.register(
        Flow(
            name=NAME,
            intents=frozenset({"question", "out_of_scope"}),
            start=start,
            states={
                f"{NAME}:article": State(show_article),
                f"{NAME}:none": State(none_of_these),
                f"{NAME}:feedback": State(feedback),
                f"{NAME}:{PARTLY}": State(partly, starts_flow=True),
                "still": State(still, waiting_for="what's still not right"),
                # nothing was asked: whatever comes next may say more, or be new
                "after_no": State(after_no, waiting_for="more about it", silent=True),
                f"{NAME}:{DETAIL_VERB}": State(detail),
                f"{NAME}:{FOLLOW_UP_VERB}": State(follow_up),
            },
            interruptible=True,
            describe="answering your question",
        )
    )
