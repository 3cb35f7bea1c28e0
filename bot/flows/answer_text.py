"""What the bot says after a guide: its rating, and what follows. For :mod:`bot.flows.answer`."""

from __future__ import annotations

#: a detail added after a guide ("it's a Dell") that finds the same guide again
STILL_THE_GUIDE = "“{title}” is still the guide I'd point you to for that. Did it help?"
HELPFUL_YES = "Great, glad that helped."
HELPFUL_NO = (
    "Thanks for telling me; the guide's editors will see it. If you still need help, contact the "
    "{desk}: {contact}."
)
#: "kind of" to "Was this helpful?"; then, when what's still not right finds the same guide
HELPFUL_PARTLY = (
    "Thanks; the guide's editors will see it wasn't all you needed. What's still not right? "
    "Tell me in a few words and I'll look again, or raise a ticket for the {desk}: {contact}."
)
NO_BETTER_GUIDE = (
    "I haven't a better guide for that than “{title}”. The {desk} can help: raise a ticket "
    "and they'll pick it up, or contact them: {contact}."
)
