"""Everything the bot says in its own words, in one place (British English, plain, kind)."""

from __future__ import annotations

from datetime import datetime

from bot.desk.calendar import LONDON, WorkingCalendar
from bot.settings import Council, Settings

GREETING = "Hello {name}! I'm the {desk} bot. Ask me an IT question, or pick one of these."
I_AM_A_BOT = (
    "I'm the {desk}'s bot, not a person: I answer from the desk's guides and can do a few "
    "things straight away. If you'd rather talk to someone on the desk, press Talk to someone."
)
HELP_INTRO = (
    "I can answer questions about email, calendars, OneDrive, SharePoint, Teams, signing in "
    "and your phone, from the {desk}'s guides for {council}. Just type your question, or pick:"
)
THANKS = "You're welcome! Anything else, just ask."
GOODBYE = "Bye for now. Message me any time you need IT help."
NOTHING_TO_CANCEL = "There's nothing to cancel. What can I help you with?"
CANCELLED = "OK, I've stopped that. What else can I help you with?"
EMPTY_MESSAGE = (
    "I didn't catch anything there. Type your IT question, "
    "for example “how do I share my calendar?”"
)
STALE_BUTTON = (
    "That button belongs to an earlier conversation. Type your IT question, "
    "for example “how do I share my calendar?”"
)
TOO_LONG = (
    "That's a long message. I read the first {limit:,} characters; if I've missed something, "
    "send the key part on its own."
)
DECLINE = (
    "Sorry, I couldn't find a guide that answers that. Try putting it another way "
    "(for example “Outlook won't open”), or contact the {desk}: {contact}."
)
NO_GUIDE_FOR_CODE = (
    "I don't have a guide for {codes} yet. The {desk} can look it up: raise a ticket "
    "quoting the code (and the Request Id and time, if the message shows them), or "
    "contact them: {contact}."
)
OUT_OF_SCOPE = (
    "That isn't something I can help with: I'm the {desk} bot, for IT questions. "
    "Try asking about email, calendars, documents, signing in or Teams."
)
CHOOSE = "I found a few guides that might help. Which one matches your question?"
ANSWER = "Here's the guide that should help:"
NONE_OF_THESE = "None of these"
NONE_OF_THESE_REPLY = (
    "Sorry about that. Try describing it another way, or contact the {desk}: {contact}."
)
HELPFUL_Q = "Was this helpful?"
#: a bare yes to several buttons offered without a question ("Raise a ticket", "Talk to someone")
WHICH_ONE = "Which one? Press it to go ahead."


def article_cut(link: str) -> str:
    """The end of an article too long for one chat reply; ``link`` is its own ``.md`` name."""
    return f"_This guide is longer than a chat message: [read the rest of it]({link})._"


ARTICLE_GONE = "That guide is no longer available. Try asking your question again."
CONFIRM_INTENT = "Just to check: do you want to {action}?"
CONFIRM_NO = "OK. Tell me a bit more about what you need and I'll try again."
OFFER_INTENTS = "I'm not sure what you need. Is it one of these?"
SWITCH = "We're in the middle of {current}. Do you want to stop that and {new} instead?"
SWITCH_KEEP = "OK, let's carry on. {waiting_for}"
TIMED_OUT = (
    "I stopped waiting for {waiting_for} after {minutes} minutes, so I've closed that request."
)
RESUME_ASK = "Do you want to carry on {what}?"
RESUMED = "OK, back to {what}. {{waiting_for}}"
RESUME_DROPPED = "OK, I've dropped that. What else can I help you with?"
#: after an answer the bot didn't understand, by what the question expects: how to answer,
#: or get out (nobody is left repeating themselves to the same question)
REPROMPT_HOW = {
    "choice": "Choose one of the options, or type “cancel” to stop.",
    "yes_no": "Answer yes or no, or type “cancel” to stop.",
    "text": "Type it here, or “cancel” to stop.",
}
PLEASE_ANSWER_BUTTONS = "Please choose one of the options, or type “cancel” to stop."
UNKNOWN_USER = "Sorry, I can only help staff of {councils}. Please use your {domains} address."
ERROR = (
    "Sorry, something went wrong on my side. Please try again, or contact the {desk}: {contact}."
)

#: how each intent reads in a sentence: "do you want to <action>?"
INTENT_ACTIONS: dict[str, str] = {
    "question": "ask a question",
    "reset_password": "reset your password",
    "unlock_account": "unlock your account",
    "reset_mfa": "reset your sign-in verification (MFA)",
    "raise_ticket": "raise a ticket with the service desk",
    "ticket_status": "check on a ticket",
    "talk_to_human": "talk to someone on the service desk",
    "greeting": "say hello",
    "help": "see what I can do",
    "thanks": "say thanks",
    "goodbye": "finish",
    "cancel": "cancel",
    # something that isn't IT: the switch prompt must never read "stop that and out of scope"
    "out_of_scope": "ask about something else",
}


def contact(settings: Settings, council: Council | None) -> str:
    if council is None:
        return "; ".join(f"{c.name}: {c.desk_phone}, {c.desk_email}" for c in settings.councils)
    return f"{council.desk_phone} or {council.desk_email}"


def staff_domains(settings: Settings) -> str:
    """The staff email domains the bot accepts, as a person reads them.

    >>> staff_domains(Settings())
    '@aylesburyvaledc.gov.uk or @dacorum.gov.uk'
    """
    domains = [f"@{d}" for c in settings.councils for d in c.domains]
    if len(domains) < 2:
        return "".join(domains)
    return f"{', '.join(domains[:-1])} or {domains[-1]}"


def unknown_user(settings: Settings) -> str:
    """The refusal of an address on no council's domain: who the bot serves, which to use."""
    councils = " and ".join(c.name for c in settings.councils)
    return UNKNOWN_USER.format(councils=councils, domains=staff_domains(settings))


#: the account actions said of a colleague's account ("priya can't log in")
COLLEAGUE_ACTIONS = {
    k: v.replace("your", "their") for k, v in INTENT_ACTIONS.items() if "your" in v
}


def action(intent: str, for_colleague: bool = False) -> str:
    if for_colleague and intent in COLLEAGUE_ACTIONS:
        return COLLEAGUE_ACTIONS[intent]
    return INTENT_ACTIONS.get(intent, intent.replace("_", " "))


def upper_first(text: str) -> str:
    """``text`` with its first letter in capitals and the rest as it is ("MFA", "I"), where
    ``str.capitalize`` lower-cases the rest.

    >>> upper_first("see what I can do"), "see what I can do".capitalize()
    ('See what I can do', 'See what i can do')
    """
    return text[:1].upper() + text[1:]


_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def hours(calendar: WorkingCalendar) -> str:
    """The desk's hours as replies and articles state them (from ``ITBOT_WORKING_HOURS``).

    >>> hours(WorkingCalendar())
    'Monday to Friday, 08:30 to 17:00'
    """
    days = sorted(calendar.workdays)
    if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        span = f"{_DAYS[days[0]]} to {_DAYS[days[-1]]}"
    else:
        span = ", ".join(_DAYS[d] for d in days)
    return f"{span}, {calendar.opens:%H:%M} to {calendar.closes:%H:%M}"


def closures(calendar: WorkingCalendar) -> str:
    """The days the desk is shut besides weekends (from ``ITBOT_CLOSURE_DAYS``).

    >>> closures(WorkingCalendar(closures=("12-27..12-31", "2027-04-06")))
    'bank holidays, 27 to 31 December and 6 April 2027'
    """
    said = ["bank holidays"] if calendar.bank_holidays else []
    for item in calendar.closures:
        first, _, last = item.partition("..")
        said.append(_day(first) if not last else _span(first, last))
    if not said:
        return "no other days"
    return said[0] if len(said) == 1 else f"{', '.join(said[:-1])} and {said[-1]}"


def _day(spec: str) -> str:
    parts = [int(n) for n in spec.split("-")]
    year = f" {parts[0]}" if len(parts) == 3 else ""
    return f"{parts[-1]} {_MONTHS[parts[-2] - 1]}{year}"


def _span(first: str, last: str) -> str:
    a, b = _day(first), _day(last)
    a_day, _, a_rest = a.partition(" ")
    if a_rest == b.partition(" ")[2]:  # same month (and year): "27 to 31 December"
        return f"{a_day} to {b}"
    return f"{a} to {b}"


_MONTHS = (
    "January February March April May June July August September October November December"
).split()


def opening(moment: datetime, now: datetime) -> str:
    """When the desk opens next, said from ``now`` (both in the calendar's time zone).

    >>> from bot.desk.calendar import LONDON
    >>> now = datetime(2026, 11, 28, 11, 0, tzinfo=LONDON)
    >>> opening(datetime(2026, 11, 30, 8, 30, tzinfo=LONDON), now)
    'on Monday 30 November at 08:30'
    >>> opening(datetime(2027, 1, 4, 8, 30, tzinfo=LONDON), now)
    'on Monday 4 January 2027 at 08:30'
    """
    now = now.astimezone(moment.tzinfo)
    days = (moment.date() - now.date()).days
    if days == 0:
        return f"today at {moment:%H:%M}"
    if days == 1:
        return f"tomorrow at {moment:%H:%M}"
    year = f" {moment.year}" if moment.year != now.year else ""
    return f"on {_DAYS[moment.weekday()]} {moment.day} {moment:%B}{year} at {moment:%H:%M}"


def closed_now(calendar: WorkingCalendar, now: datetime) -> str:
    """Why the desk is closed at ``now``: "closed {this}".

    >>> from bot.desk.calendar import LONDON
    >>> closed_now(WorkingCalendar(), datetime(2026, 12, 28, 10, 0, tzinfo=LONDON))
    'today for the Boxing Day bank holiday'
    """
    why = calendar.why_closed(now.astimezone(calendar.tz).date())
    if why == "closure":
        return "today (one of its closure days)"
    if why:
        return f"today for the {why.removesuffix(' (observed)')} bank holiday"
    return "right now"


# -- tickets ----------------------------------------------------------------------------------

TICKET_ASK_SUMMARY = "I'll raise a ticket with the {desk}. Briefly, what's the problem?"
HANDOFF_INTRO = (
    "I'll pass this to the {desk} with our conversation so far, so nobody asks you to "
    "repeat yourself. An agent will reply to you here."
)
#: "talk to a person" outside working hours: when they're back, and what the bot can do now
HANDOFF_CLOSED = (
    "The {desk} is closed {closed}. It's open {hours}, except {closures}, and next opens "
    "{opens}. I'll still pass this on with our conversation so far, and an agent will "
    "reply to you here once they're back."
)
#: "what's the service desk's number?": the answer, for the asker's council
DESK_CONTACT = (
    "You can reach the {desk} on {contact}. It's open {hours}, except {closures}. "
    "Or I can pass a message to them, with our conversation so far."
)
DESK_CLOSED_NOW = "It's closed {closed} and next opens {opens}."
MESSAGE_THE_DESK = "Pass a message to the desk"
HANDOFF_MEANWHILE = (
    "Meanwhile, I can do these for you now, or type a question and I'll search the guides:"
)
TICKET_ASK_CATEGORY = "Which of these is it about?"
TICKET_ASK_IMPACT = "How much is this stopping you working?"
TICKET_SIMILAR = (
    "You already have {count} open ticket(s) that look similar. "
    "Add this to one of them instead of raising a new one?"
)
TICKET_CONFIRM = (
    "Here's what I'll send to the {desk}:\n"
    "• Problem: {summary}\n• About: {category}\n• Priority: {priority} ({meaning})\n"
    "Shall I raise it?"
)
TICKET_CATEGORY_TAKEN = "OK, I've put it under “{category}”."
TICKET_DETAIL_ADDED = "I've added that to the ticket's details: “{detail}”."
TICKET_RAISED = (
    "Done: {ref} is with the {desk}. As priority {priority}, they aim to respond by "
    "{response_due} and to fix it by {resolution_due}. I'll message you here when there's news."
)
REDACTED_NOTE = (
    "I've hidden the password, code or key in your message, so it isn't kept or passed on. "
    "It was still typed into a chat, so please change it now. You never need to send me "
    "or the service desk a password."
)
TICKET_ADDED = "I've added that to {ref}. The agent working on it will see it."
TICKET_NOT_RAISED = "OK, I haven't raised anything. What else can I help you with?"
#: in a ticket's transcript: the guides a reply showed, and a button the person pressed
TRANSCRIPT_GUIDES = "Guides offered: {titles}"
TRANSCRIPT_PRESSED = "[pressed: {what}]"
TICKET_FORM_NO_SUMMARY = "Please say in a few words what the problem is."
TICKET_SUMMARY_TOO_SHORT = (
    "Could you say a little more? For example “Outlook won't open on my laptop”."
)
NO_TICKETS = (
    "You have no open tickets. If you reported something to the {desk} by phone, they can "
    "tell you where it stands: {contact}. Or tell me what's wrong and I'll help."
)
YOUR_TICKETS = "Your open tickets:"
TICKET_NOT_FOUND = (
    "I can't find {ref} among your tickets. Check the reference, or see your open tickets:"
)
TICKET_ASK_COMMENT = "What would you like to add to {ref}?"
REPLY_ADDED = "Thanks, I've added that to {ref} for {agent}."
REPLY_OFFER = "{agent} asked you something on {ref}. Add this to {ref}?"
TICKET_COMMENTED = "Thanks, I've added that to {ref}."
TICKET_NOTHING_ADDED = "OK, I haven't added anything to {ref}."
TICKET_CLOSED = "I've closed {ref}. If it comes back within {days} working days you can reopen it."
TICKET_REOPENED = "I've reopened {ref}; the desk will pick it up again."
CSAT_ASK = "{ref} has been resolved. How did we do? (1 = poor, 5 = excellent)"
CSAT_THANKS = "Thanks for rating {ref}. Anything you'd like to add? (or type “no”)"
CSAT_DONE = "Thanks, your feedback goes straight to the service desk team."

CATEGORY_LABELS: dict[str, str] = {
    "email": "Email",
    "calendar": "Calendar",
    "documents": "Documents & files",
    "sign-in": "Signing in",
    "device": "Laptop, phone or printer",
    "other": "Something else",
}

#: plain-language impact answers and the priority each means
IMPACT_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("many", "Many people or a public service can't work", "P1"),
    ("blocked", "I can't work at all", "P2"),
    ("workaround", "I can work around it for now", "P3"),
    ("request", "It's a request or question", "P4"),
)

# -- notifications to requesters ------------------------------------------------------------

NOTIFY_COMMENT = "Update on {ref} ({summary}): {author} wrote:\n{body}"
NOTIFY_ASSIGNED = "{ref} ({summary}) is now with {assignee} on the service desk."
#: an approval the person waited for (an MFA reset) was denied or ran out of time
APPROVAL_DENIED = (
    "The {desk} didn't approve your request to {action}, so nothing has been changed. "
    "If you still need it, contact the {desk}: {contact}."
)
APPROVAL_EXPIRED = (
    "Nobody on the {desk} could approve your request to {action} in time, so it has lapsed "
    "and nothing has been changed. You can ask me again during the desk's working hours "
    "({hours}), or contact the {desk}: {contact}."
)
NOTIFY_STATUS = {
    "open": "{ref} ({summary}) is open again; the desk is working on it.",
    "pending": "{ref} ({summary}) is waiting for you: the desk needs something from you.",
    "resolved": "{ref} ({summary}) has been resolved.",
    "closed": "{ref} ({summary}) is closed.",
}

# -- who is asking: proving a typed address (web chat) --------------------------------------

#: a flow that shows, raises or changes tickets, asked by someone not yet proven
TICKETS_NOT_PROVEN = (
    "I can't {action} until this chat knows it's really you. Sign in with the code we "
    "email you (the box above the chat), then ask again; you can ask me IT questions "
    "meanwhile. Or contact the {desk}: {contact}."
)
SIGN_IN_CODE_SENT = (
    "We've sent a 6-digit code to {email}. Enter it to see your tickets and reset your "
    "password; you can ask questions meanwhile."
)
SIGN_IN_CODE_LIMIT = (
    "We've sent {email} as many codes as we can this hour. Use the last one we sent, or try "
    "again later; you can ask questions meanwhile."
)
SIGN_IN_NOT_SENT = (
    "We couldn't send a code just now. You can ask questions meanwhile; try “Send a new "
    "code” in a minute."
)
SIGN_IN_WRONG = "That code isn't right. You have {left} more {tries}."
SIGN_IN_TOO_MANY = "That's five wrong codes, so that code has stopped working. Ask for a new one."
SIGN_IN_EXPIRED = "That code has expired or was replaced. Ask for a new one."
SIGN_IN_NO_CODE = "There's no code waiting for this chat. Ask for a new one."
SIGN_IN_DONE = (
    "Thanks, that's you: you're signed in as {email}. You can now see your tickets and "
    "reset your password here."
)
SIGN_IN_ALREADY = "You're already verified as {email}."
SIGN_IN_SSO = "Sign-in is handled by your council's single sign-on."
SIGN_IN_FIRST = "Tell me your council email address first."
SIGN_IN_BAD_EMAIL = "Please enter your full council email address."
SIGN_IN_BAD_CODE = "Type the 6-digit code from the email."

# -- signing in to the web chat with the council's identity provider (OIDC) -----------------
OIDC_BUTTON = "Sign in with your council account"
OIDC_DONE_HEADING = "You're signed in"
OIDC_DONE = "You're signed in as {email}. Taking you back to the chat…"
OIDC_REFUSED_HEADING = "We couldn't sign you in"
#: the state is unknown, used already, another browser's, or older than ten minutes
OIDC_STALE = "That sign-in link has expired or has been used already. Start again from the chat."
OIDC_PROVIDER_SAID_NO = (
    "Your council's sign-in page didn't sign you in ({error}). Start again from the chat."
)
OIDC_NOT_BELIEVED = (
    "Your council's sign-in answered in a way we can't trust, so you're not signed in. "
    "Start again from the chat; if it keeps happening, contact the {desk}."
)
OIDC_NO_EMAIL = (
    "Your council account didn't tell us your email address, so you're not signed in. "
    "Contact the {desk}."
)
OIDC_OTHER_DOMAIN = (
    "{email} isn't a staff account of {councils}, so it can't sign in to the {desk}'s "
    "chat. Sign in with your council account, or ask the bot questions without "
    "signing in."
)
OIDC_UNAVAILABLE = (
    "Your council's sign-in service can't be reached just now. Try again in a few minutes, "
    "or sign in with a code sent to your email instead."
)

# privacy: what is left where people's words were purged or erased
PURGED_TEXT = "[removed after the retention period]"
ERASED_TEXT = "[removed: the person's data was erased]"
ERASED_NAME = "Erased person"
#: where a subject access export leaves out what someone else wrote
OTHERS_WORDS = "[someone else's words]"
OTHERS_NAME = "[someone else]"

# -- outages: service notices -------------------------------------------------------------
#: the text a notice about a spike starts with (the agent may edit it before publishing)
NOTICE_DEFAULT = "There's a known problem with {products} since {since}; we're on it."
#: what staff are told first, before their question is answered or a ticket raised
NOTICE_FIRST = "{text} You can add yourself to it and we'll tell you when it's fixed."
NOTICE_ADD_ME = "Add me to it"
#: "is there an outage?" when no notice stands for the asker's council
NO_KNOWN_PROBLEMS = (
    "There are no known problems for {council} staff right now. If something isn't working, "
    "tell me what and I'll find a guide or raise a ticket."
)
NO_KNOWN_PROBLEM_WITH = "There's no known problem with {what} for {council} staff right now."
NOTICE_RAISE_ANYWAY = "Raise a ticket anyway"
NOTICE_JOINED = (
    "Thanks, you're added. There's no need to raise a ticket: we'll tell you here when it's fixed."
)
NOTICE_GONE = "That problem has just been sorted, so there's nothing to add yourself to."
NOTICE_FIXED = {
    "resolved": "Good news: the known problem you were added to has been fixed ({text})",
    "closed": "The known problem you were added to is closed ({text})",
}


def due(moment: datetime) -> str:
    """A due time the way people say it, in UK time: ``Wed 25 Nov, 14:00``."""
    return moment.astimezone(LONDON).strftime("%a %-d %b, %H:%M")
