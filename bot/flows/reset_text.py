"""What the bot says in a reset conversation (password, unlock, MFA): for :mod:`bot.flows.reset`."""

from __future__ import annotations

NOT_PROVEN = (
    "To {action} I first need to be sure it's you, and this chat hasn't confirmed who you "
    "are yet. Sign in with the code we email you, then ask again. If you can't get into "
    "your email, call the {desk} on {phone}."
)
FOR_SOMEONE_ELSE = (
    "I can't do that for a colleague: I only reset passwords, unlock accounts and reset "
    "MFA for the person asking, once they've proved it's them. I've raised {ref} so the "
    "{desk} can help; they'll check with your colleague first."
)
REFUSED = (
    "I can't {action} here, so I've passed it to the {desk} as {ref}; they'll be in touch. "
    "The guide below shows how to do it yourself, or call them on {phone}."
)
CODE_SENT = (
    "To check it's you, I've sent a {digits}-digit code to {where}. Type it here to "
    "{action}. It works for {minutes} minutes; never share it with anyone."
)
#: after :data:`CODE_SENT`, to someone who said their number has changed
NEW_NUMBER = (
    "You said your number has changed: if {where} isn't your new one, press \"Pass it to "
    "the desk\" and they'll check it's you another way."
)
#: where the code goes when the channel has forms (``Incoming.forms``: Slack's modals)
CODE_SENT_FORM = (
    "To check it's you, I've sent a {digits}-digit code to {where}. Press \"Enter the code\" "
    "and type it in the window that opens to {action}. It works for {minutes} minutes; never "
    "share it with anyone."
)
USE_THE_FORM = (
    'Please enter the code with the "Enter the code" button instead: your temporary '
    "password can only be shown in the window it opens, never in this chat. The code still "
    "works, so nothing has changed yet."
)
NO_CODE_ASKED = (
    "I'm not waiting for a code any more, so nothing has changed. Ask me again to {action}."
)
CODE_NOT_ARRIVED = (
    "I sent it to {where}; {delay}. If it still hasn't come, press "
    '"Send a new code". If that isn\'t your {contact} any more, cancel and call the {desk} on '
    "{phone}: I can only send codes to the contact details the council holds for you."
)
#: how long a code takes, and what to call the contact, by text (``Contact.masked``) or email
CANT_GET_IT = (
    "The code went to {where}, so without it I can't check it's you here, and nothing has "
    "changed. If you get to it within {minutes} minutes, type the code here. Otherwise the "
    "{desk} can check who you are another way: call them on {phone}, or I can pass it on."
)
PASSED_ON = (
    "I've passed it to the {desk} as {ref}: they'll check it's you another way and reply "
    "to you here. The code I sent no longer works."
)
BY_TEXT = {"delay": "a text can take a minute or two", "contact": "number"}
BY_EMAIL = {
    "delay": "an email can take a few minutes, so check its junk or spam folder too",
    "contact": "address",
}
CODE_WRONG = "That code isn't right. You have {left} more {tries}."
CODE_EXPIRED = "That code has expired. I can send you a new one."
TOO_MANY = (
    "That's five wrong codes, so I've stopped here to keep your account safe. You can "
    "start again later, or call the {desk} on {phone}."
)
PASSWORD_DONE = (
    "Done: your password has been reset. Your temporary password is:\n\n{password}\n\n"  # noqa: S105
    "Sign in with it now; you'll be asked to choose a new password straight away. This is "
    "the only time it's shown, and I've signed you out everywhere else."
)
UNLOCK_DONE = (
    "Done: your account is unlocked, so you can sign in again now. If it locks again, "
    "your password may be saved wrongly on a phone or laptop: update it there."
)
MFA_WAITING = (
    "Thanks, that's you. Removing your sign-in methods needs an agent's approval, so I've "
    "asked the {desk}. I'll tell you here as soon as they've decided, usually within the hour."
)
TOLD_CONTACT = "I've also sent a note to {where} saying what changed."
MOVE_FIRST = (
    "If you still have your old phone, you can move Authenticator to the new one yourself "
    "in a few minutes with the guide below, and sign in as normal meanwhile. If the old "
    "phone is lost, broken or already wiped, I can reset your MFA instead: I'll check it's "
    "you, and an agent approves it. Do you still have the old phone?"
)
MOVE_RESET = "I don't have the old phone: reset my MFA"
MOVE_KEPT = "Yes, I still have it"
MOVE_WITH_GUIDE = (
    "Then “{title}” will do it: keep the old phone to hand until the new one shows your "
    'council account in Authenticator. If you get stuck, tell me "reset my MFA" and I\'ll '
    "do it instead."
)
DIRECTORY_DOWN = (
    "I couldn't reach the account system just now, so nothing has changed. I've passed it "
    "to the {desk} as {ref}; or try again in a few minutes."
)
