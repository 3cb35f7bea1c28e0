"""Everything the bot says in its own words, in one place (British English, plain, kind)."""

from __future__ import annotations

from bot.settings import Council, Settings

GREETING = "Hello {name}! I'm the {desk} bot. Ask me an IT question, or pick one of these."
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
HELPFUL_YES = "Great, glad that helped."
HELPFUL_NO = (
    "Thanks for telling me; the guide's editors will see it. If you still need help, contact the "
    "{desk}: {contact}."
)
ARTICLE_GONE = "That guide is no longer available. Try asking your question again."
CONFIRM_INTENT = "Just to check: do you want to {action}?"
CONFIRM_NO = "OK. Tell me a bit more about what you need and I'll try again."
OFFER_INTENTS = "I'm not sure what you need. Is it one of these?"
SWITCH = "We're in the middle of {current}. Do you want to stop that and {new} instead?"
SWITCH_KEEP = "OK, let's carry on. {waiting_for}"
TIMED_OUT = (
    "I stopped waiting for {waiting_for} after {minutes} minutes, so I've closed that request."
)
PLEASE_ANSWER_BUTTONS = "Please choose one of the options, or type “cancel” to stop."
NOT_YET = (
    "I can't {action} for you here yet. Please contact the {desk}: {contact}. "
    "They're open Monday to Friday, 08:30 to 17:00."
)
UNKNOWN_USER = "Sorry, I can only help staff of {councils}. Please use your council email address."
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
}


def contact(settings: Settings, council: Council | None) -> str:
    if council is None:
        return "; ".join(f"{c.name}: {c.desk_phone}, {c.desk_email}" for c in settings.councils)
    return f"{council.desk_phone} or {council.desk_email}"


def action(intent: str) -> str:
    return INTENT_ACTIONS.get(intent, intent.replace("_", " "))


# -- tickets ----------------------------------------------------------------------------------

TICKET_ASK_SUMMARY = "I'll raise a ticket with the {desk}. Briefly, what's the problem?"
HANDOFF_INTRO = (
    "I'll pass this to the {desk} with our conversation so far, so nobody asks you to "
    "repeat yourself. An agent will reply to you here."
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
TICKET_FORM_NO_SUMMARY = "Please say in a few words what the problem is."
TICKET_SUMMARY_TOO_SHORT = (
    "Could you say a little more? For example “Outlook won't open on my laptop”."
)
NO_TICKETS = "You have no open tickets. Need help with something?"
YOUR_TICKETS = "Your open tickets:"
TICKET_NOT_FOUND = (
    "I can't find {ref} among your tickets. Check the reference, or see your open tickets:"
)
TICKET_ASK_COMMENT = "What would you like to add to {ref}?"
TICKET_COMMENTED = "Thanks, I've added that to {ref}."
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
    "(Monday to Friday), or contact the {desk}: {contact}."
)
NOTIFY_STATUS = {
    "open": "{ref} ({summary}) is open again; the desk is working on it.",
    "pending": "{ref} ({summary}) is waiting for you: the desk needs something from you.",
    "resolved": "{ref} ({summary}) has been resolved.",
    "closed": "{ref} ({summary}) is closed.",
}
