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
SENT_PRIVATELY = "I've sent you the details in a direct message, so only you can see them."
