"""What the bot says only in Slack (everything else is in ``bot.wording``)."""

from __future__ import annotations

NO_EMAIL = (
    "Sorry, I can't see an email address on your Slack account, so I can't tell which council "
    "you work for. I can only help staff of {councils}. Please contact the {desk}: {contact}."
)
OUTSIDE = (
    "Sorry, I can only help staff of {councils}, and the email address on your Slack account "
    "isn't a council address. If you think that's wrong, contact the {desk}: {contact}."
)

#: the "Enter the code" button beside a reply that asks for a one-time code
ENTER_CODE = "Enter the code"
#: under a temporary password in the code form
SHOWN_ONCE = "Shown once — copy it now; you must change it when you sign in."
#: in the DM, instead of a private reply shown in the code form
SHOWN_IN_WINDOW = (
    "Your password has been reset; the temporary password was shown in the window where you "
    "entered the code (it isn't kept in this chat)."
)
#: a private reply with no window to show it in: it is never posted
NOT_SHOWN = (
    "There was something only you should see, and I can only show it in a window opened "
    "with a button. Please ask me again."
)
#: a value held in memory was lost (a restart between the request and its answer)
LOST_CODE = "I didn't get the code you entered (I restarted just then). Please enter it again."
LOST_MESSAGE = (
    "I didn't get your last message (I restarted just then). Please send it again; if it "
    "was a code, it still works."
)
#: the code form's validation error
CODE_DIGITS = "Enter the code's digits only: 6 to 10 of them, as in the message we sent you."
