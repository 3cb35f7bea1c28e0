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
