"""What the email channel says in its mails: plain text, signed by the desk."""

from __future__ import annotations

RECEIVED = (
    "Hello{name},\n\n"
    "Thank you for your email. We've logged it as {ref}: {summary}\n"
    "An agent will pick it up and reply to this email thread."
)
ANSWER = (
    "\n\nThis guide may answer your question already:\n\n"
    "{title}\n{rule}\n\n{body}\n\n"
    "If this solved it, reply 'solved' and we'll mark the ticket resolved."
)
KEEP_SUBJECT = "\n\nTo add anything, reply to this email and keep {ref} in the subject."
UPDATE_INVITE = "\n\nReply to this email to answer the service desk."
#: the reference marker, above the signature (mail clients leave out what is below it)
MARKER = "\n\n[Ref: {ref}]"
SIGNATURE = "\n\n-- \n{desk}\nThis is an automatic reply from the service desk's mailbox."
REFUSED_SUBJECT = "Re: {subject}"
REFUSED = (
    "Hello,\n\n"
    "This mailbox is the IT service desk of {councils}. It can only take requests "
    "from their staff's work email addresses, so we haven't logged your message.\n"
    "If you work for one of the councils, please email us from your work address."
)
