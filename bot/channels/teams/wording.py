"""What the bot says only in Teams (everything else is in ``bot.wording``)."""

from __future__ import annotations

NO_EMAIL = (
    "Sorry, I can't see an email address on your Teams account, so I can't tell which council "
    "you work for. I can only help staff of {councils}. Please contact the {desk}: {contact}."
)
OUTSIDE = (
    "Sorry, I can only help staff of {councils}, and the email address on your Teams account "
    "isn't a council address. If you think that's wrong, contact the {desk}: {contact}."
)
#: the button that opens the code dialog
ENTER_CODE = "Enter the code"
CODE_TITLE = "Enter the code we sent you"
CODE_LABEL = "Code"
CODE_HINT = "6 to 10 digits"
CODE_DIGITS = "Enter the code's digits only: 6 to 10 of them, as in the message we sent you."
SHOWN_ONCE = "Shown once — copy it now; you must change it when you sign in."
SHOWN_IN_WINDOW = (
    "Your password has been reset; the temporary password was shown in the window where you "
    "entered the code (it isn't kept in this chat)."
)
NOT_SHOWN = (
    "There was something only you should see, and I can only show it in a window opened "
    "with a button in our personal chat. Please ask me again there."
)

# -- the agents' triage channel ---------------------------------------------------------
REQUESTER_WROTE = "{name} (requester) wrote:"
SLA_PAUSED = "SLA clocks paused: waiting for the requester"
SLA_ALERT = {
    "response_at_risk": "First response due soon (by {due})",
    "response_breached": "First response overdue (was due {due})",
    "resolution_at_risk": "Resolution due soon (by {due})",
    "resolution_breached": "Resolution overdue (was due {due})",
}
NOT_AN_AGENT = (
    "Sorry {name}, only service desk agents can change tickets here, so I left {ref} as it was."
)
NOT_AN_AGENT_REPLY = (
    "Sorry {name}, only service desk agents can reply to requesters here: your message was "
    "not passed on."
)
NO_TICKET = "I can't find {ref}."
NOT_ASSIGNABLE = "Only service desk agents can be assigned tickets; {ref} was not changed."
UNKNOWN_CONTROL = "That button isn't one I know."
PASSED_ON = "Passed on to {name} on {ref}."
KEPT_INTERNAL = "Kept as an internal note on {ref} (the requester doesn't see it)."
