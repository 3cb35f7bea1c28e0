"""Rules for signals that are unambiguous on their own ("locked out", a ticket reference).

A rule does not decide alone: it adds a fixed bonus (fitted with the rest of the calibration) to
its intent's score, so the classifier can still overrule it ("I'm locked out of my car" is out of
scope). Rules see the normalised text, where a ticket reference is the word ``ticketref``.

Each rule names a few ``cases``: messages it is written for. The examples seldom look like them
(a pasted sign-in message is no way to ask for anything), so the calibration also scores the
cases and fits the bonus to get them right too (:meth:`intents.IntentDetector.held_out`);
without them, the bonus fitted with embeddings was too small for any rule to outweigh them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from intents.text import TICKET_TOKEN
from intents.types import ASKS_IF_A_BOT, KNOWN_PROBLEMS, NOT_FIXED, NOTHING_NAMED


@dataclass(frozen=True, slots=True)
class Rule:
    """``intent`` gets the bonus when ``pattern`` matches and ``unless`` (if any) does not;
    ``cases`` are messages the rule is for (the calibration's, not the tests'). When the
    model's best is one of ``overrules``, the rule's intent is taken instead: what the
    model can't read ("that didn't help" is never thanks: it has no notion of "not")."""

    name: str
    intent: str
    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None
    reason: str
    cases: tuple[str, ...] = ()
    overrules: frozenset[str] = frozenset()

    def matches(self, normalised: str) -> bool:
        if not self.pattern.search(normalised):
            return False
        return self.unless is None or not self.unless.search(normalised)


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_NON_IT_PLACES = (
    r"\b(?:car|van|house|home|flat|front door|door|office|building|shed|garage|garden)\b"
)
#: things with a password or PIN of their own, not the person's account
_THINGS = (
    r"printers?|copiers?|photocopiers?|scanners?|mfds?|print release|wifi|wi fi|guest wifi|"
    r"guest network|voicemail|door|doors|alarm|safe|building|car park|card reader"
)
#: a council's line-of-business systems: their accounts are the desk's to sort out, not the
#: council (Microsoft 365) account the bot unlocks and resets
_BUSINESS = (
    r"payroll|planning|revenues?|benefits|finance|financial|hr|council tax|parking|licensing|"
    r"building control|land charges|electoral|elections|procurement|expenses|timesheets?|"
    r"cash receipting|crm|gis|case management"
)
_PRODUCTS = (
    r"idox|civica|northgate|capita|agresso|unit ?4|i ?trent|firmstep|mosaic|liquidlogic|"
    r"tascomi|moderngov|modern gov|abritas|oracle fusion"
)
_SYSTEM = r"system|systems|portal|app|application|software|database|login|logon|account|password"
_ACCOUNT_WORDS = (
    r"locked|lock|unlock|password|passwords|pin|login|log in|logon|log on|log into|logged|"
    r"sign in|signin|sign into|get into|get in|access|reset|forgot|forgotten"
)
_HOW_TO_AVOID = r"\b(?:how (?:do|can) i (?:stop|avoid|prevent)|why (?:do|does|did|am|is))\b"

#: adding to a ticket already raised ("please add this to my existing ticket", "put a note
#: on JSD-001042"): a rule, and the ``adds_to_ticket`` slot the ticket flow acts on
ADDS_TO_TICKET = _rx(
    r"\b(?:add|put)\b(?: (?:this|that|something|some\w*|more|it|a comment|a note|info\w*"
    r"|details?))* (?:to|on|onto) (?:(?:my|the|our) (?:existing |open |current |last )?"
    rf"(?:ticket|call|request|job)|{TICKET_TOKEN})\b"
)

RULES: tuple[Rule, ...] = (
    Rule(
        "ticket-reference",
        "ticket_status",
        _rx(rf"\b{TICKET_TOKEN}\b"),
        _rx(r"\b(?:raise|log|open|create|submit) (?:a |an |another |new )"),
        "mentions a ticket reference",
        (
            "any news on JSD-000311?",
            "what is happening with ticket 2087",
        ),
    ),
    Rule(
        "locked-out",
        "unlock_account",
        _rx(
            r"\b(?:locked (?:myself |me )?out|(?:account|login|user|id|it|im|i am|i ve been|ive"
            r" been|been|got|get|is|s) (?:is |has been |got |been )?locked|unlock (?:my|me|the|"
            r"user|account)|too many (?:attempts|tries|goes|times|failed|wrong))\b"
        ),
        _rx(rf"{_NON_IT_PLACES}|{_HOW_TO_AVOID}|\b(?:file|document|spreadsheet|for editing)\b"),
        'says the account is locked ("locked out", "too many attempts")',
        (
            "it says my account is locked",
            "too many failed attempts and now I can't get in",
        ),
    ),
    Rule(
        "forgotten-password",
        "reset_password",
        _rx(
            r"\b(?:forgot|forgotten|forgotton|fogot|cant remember|dont know|no idea what)\b.*"
            r"\bpassword\b|\bpassword\b.*\b(?:expired|reset|resetting|forgotten)\b|"
            r"\breset (?:my |the |a )?password\b"
        ),
        _rx(
            r"\b(?:how often|how long|policy|rules|requirements|why does|why do|why is|"
            r"keeps? asking|keeps? prompting|pin|bank|card)\b"
        ),
        "asks for a password to be reset (forgotten or expired)",
        (
            "my password has expired and I can't change it",
            "I've forgotten my network password",
        ),
    ),
    Rule(
        "mfa-device-changed",
        "reset_mfa",
        _rx(
            r"\b(?:reset|clear|re ?register|move|moving|transfer)\b.*\b(?:mfa|2fa|authenticator|"
            r"two factor|multi factor|multifactor|two step|num step)\b|\b(?:new|lost|stolen|"
            r"broken|replacement|changed|upgraded|swapped) (?:my )?(?:work )?(?:phone|mobile|"
            r"handset|iphone|android)\b.*\b(?:code|codes|authenticator|mfa|approve|sign in|"
            r"verification|two factor|2fa)\b"
        ),
        _rx(r"\b(?:what is|what s|why do i|why do we|for the first time)\b"),
        "says the sign-in codes or authenticator need resetting (new or lost phone)",
        (
            "I've got a replacement mobile and need the authenticator moved over",
            "please reset my MFA",
        ),
    ),
    Rule(
        "about-passwords-or-sign-in",
        "question",
        _rx(
            r"^(?=.*\b(?:password|passwords|mfa|2fa|authenticator|two factor|multi factor|"
            r"two step|sign in codes?)\b)(?=.*\b(?:minimum|maximum|length|how long|how often|"
            r"rules?|policy|requirements?|characters?|complexity|strength|strong|expiry|set ?up|"
            r"setting up|register|registering|first time|how do i|how to|how does|without a "
            r"smartphone|no smartphone|(?:need|needs|have|has|got|asked|told) (?:me )?to "
            r"(?:do|use|enable|turn on|switch on|activate|start using))\b)"
        ),
        _rx(
            r"\b(?:forgot|forgotten|forgotton|fogot|cant remember|locked|unlock|reset|resetting|"
            r"expired|lost|stolen|broken|new phone|new mobile|new iphone|new password|not working|"
            r"doesnt work|wont work|stopped working|cant|cannot|move|moving|transfer)\b"
        ),
        "asks how passwords or sign-in work (rules, set-up), not for the desk to act on them",
        (
            "how long does a password have to be",
            "setting up the authenticator app for the first time",
        ),
    ),
    Rule(
        "locked-out-of-a-place",
        "out_of_scope",
        _rx(rf"\block(?:ed)? (?:myself |me )?out of (?:my |the |our )?\w*\s?{_NON_IT_PLACES}"),
        None,
        "locked out of a place, not an account",
        ("I've locked myself out of the garage",),
    ),
    Rule(
        "asks-for-a-person",
        "talk_to_human",
        _rx(
            r"\b(?:speak|talk|chat) (?:to|with) (?:a |an |the |someone|somebody|real|actual|"
            r"human|person|agent|advisor|adviser|analyst|technician)|\b(?:real|actual) "
            r"(?:person|human)\b|\b(?:call|ring|phone) me\b|\bcall ?back\b"
        ),
        None,
        "asks for a person",
        (
            "can I speak to someone on the desk",
            "please ring me back",
        ),
    ),
    Rule(
        "account-compromised",
        "question",
        _rx(
            r"\b(?:hacked|compromised|breached)\b|\b(?:someone|somebody) (?:else )?"
            r"(?:has |is |was |keeps |kept )?(?:been )?(?:trying to |tried to )?"
            r"(?:using|logged into|logging into|signed into|signing into|got into|getting into"
            r"|get into|log into|log in to|sign into|sign in to|in)"
            r" my (?:account|email|mailbox)\b|\bsending (?:spam|emails?|messages?) (?:that )?i"
            r" (?:didnt|did not|never) send\b"
            r"|\b(?:account|email|mailbox) (?:is |keeps |has been )?sending (?:out )?spam\b"
            # sign-in codes or approvals nobody asked for: someone else has the password
            r"|\b(?:codes?|texts?|prompts?|requests?|approvals?|notifications?|sign ins?)\b"
            r"(?: \w+){0,3} (?:i|im|i am) (?:didnt|did not|never|not|havent|have not)"
            r" (?:ask|asked|asking|request|requested|requesting|make|made|making|trigger|triggered)"
            r"|\bkeeps? asking me to approve\b|\bnot (?:asking|asked) for (?:one|it|them|any)\b"
        ),
        _rx(r"\b(?:locked out|forgot|forgotten|reset|unlock)\b"),
        "says the account may be in someone else's hands: change the password, tell the desk",
        (
            "I think my account has been hacked",
            "someone else is using my email account",
            "I keep getting sign in codes I didn't ask for",
            "someone is trying to log into my account",
        ),
        frozenset({"unlock_account", "reset_password", "reset_mfa"}),
    ),
    Rule(
        "error-code",
        "question",
        _rx(
            r"^error(?: error)*$|\berror (?:code|message|num)\b"
            r"|\b(?:says|shows|getting|get|got) error\b"
        ),
        None,
        "quotes an error or its code (0x8004010f, aadsts50076 read as error): an IT problem",
        (
            "teams shows error code 80090016",
            "getting error 0x80040600 in outlook",
        ),
    ),
    Rule(
        "pasted-message",
        "question",
        _rx(
            r"\b(?:cant get there from here|more information required|lets keep your account "
            r"secure|needs? admin(?:istrator)? approval|admin(?:istrator)? approval required|"
            r"(?:hasnt|has not) been shared with you|might not exist or is no longer available|"
            r"your sign in was blocked|upload blocked|"
            # "we couldn't sign you in" (its "couldn't" reaches the rule as "could")
            r"we could(?:nt| not)? sign you in)\b|^something went wrong\b|"
            r"^sorry,? you (?:dont|do not) have access to this (?:page|site|file|item|folder)\b"
        ),
        _rx(r"\b(?:unlock|reset|raise|log|ticket|speak|talk|call me)\b"),
        "pastes a Microsoft 365 sign-in or sharing message (a guide explains it)",
        (
            "You can't get there from here",
            "Let's keep your account secure",
            "Admin approval required",
            "This item might not exist or is no longer available",
        ),
    ),
    Rule(
        "error-message",
        "question",
        _rx(
            r"\b(?:(?:the )?operation (?:failed|could(?:nt| not)? be completed)|"
            r"an? (?:unexpected |unknown |internal )?error (?:has )?occurred|"
            r"(?:could(?:nt| not)?|cannot|can ?not) be (?:found|opened|completed|saved|"
            r"displayed|loaded|started)|"
            r"failed to (?:load|connect|open|start|sync|save|send|initiali[sz]e)|"
            r"is not responding|access (?:is )?denied)\b"
        ),
        _rx(r"\b(?:unlock|reset|raise|log|ticket|speak|talk|call me)\b"),
        "pastes an error message (a guide may explain it; else the desk can look)",
        (
            "An unexpected error has occurred.",
            "The file cannot be opened because there are problems with the contents",
            "Failed to connect to the server",
            "Access is denied",
        ),
    ),
    Rule(
        KNOWN_PROBLEMS,
        "question",
        _rx(
            r"\b(?:is|are) there (?:an?|any) (?:\w+ )?(?:outages?|problems?|issues?|faults?)\b|"
            r"\bany (?:known )?(?:outages?|problems|issues|faults)\b|\bknown (?:problems|issues)\b|"
            r"\b(?:is|are) (?:anything|something|everything|things|the systems?|the network|it all)"
            r" (?:down|broken|playing up)\b|\bservice status\b|\bis it just me\b|"
            r"^(?:\w+ )?(?:is|are) (?:the )?\w+(?: \w+)? (?:down|having (?:problems|issues))\b"
        ),
        _rx(r"\b(?:my|ticket|ticketref|reset|unlock|password)\b"),
        "asks whether something is down (the notices the desk has published)",
        (
            "is there an outage?",
            "is anything down at the moment",
            "any known issues today?",
            "is it just me or is everything down",
            "is the vpn down?",
        ),
    ),
    Rule(
        "cancel-my-ticket",
        "ticket_status",
        _rx(
            r"\b(?:cancel|withdraw|close) (?:my |the |this |that |our )?(?:ticket|ticketref|"
            r"request|call)s?\b|\b(?:cancel|withdraw|close) [a-z]{2,6} num\b"
        ),
        None,
        "asks to cancel a ticket already raised: that ticket, not the conversation",
        ("please cancel my ticket", "can you close the ticket, it's sorted now"),
        frozenset({"cancel", "goodbye", "thanks"}),
    ),
    Rule(
        "add-to-my-ticket",
        "ticket_status",
        ADDS_TO_TICKET,
        None,
        "adds to a ticket already raised, not a new one",
        (
            "can I add something to the ticket I raised",
            "put a note on JSD-1042 please",
        ),
    ),
    Rule(
        NOT_FIXED,
        "raise_ticket",
        _rx(
            r"\b(?:that|this|it|those|these|they|the (?:guide|article|steps|fix|link))"
            r"(?: (?:really|still|just|even))? (?:(?:didnt|did not|hasnt|has not|havent|have not)"
            r" (?:really |quite |even )?(?:help|work|fix|solve|sort)(?:ed)?"
            r"|(?:doesnt|does not) (?:really )?help|still (?:doesnt|does not|wont|will not) work)\b"
            r"|\bnone of (?:those|these|them|it) (?:helped|worked|fixed it)\b"
            r"|^(?:\w+ ){0,2}(?:its |it is |thats |that is )?still (?:not working|broken|the same)$"
            r"|^(?:\w+ )?no (?:luck|joy)\b"
        ),
        _rx(r"\b(?:how|why|what|where|when|which|password|unlock|reset|mfa|authenticator)\b"),
        "what was tried (a guide) didn't fix it: the desk, never thanks",
        (
            "that didn't help",
            "that hasn't fixed it",
            "none of those worked",
            "tried that, still not working",
            "it still doesn't work",
        ),
        frozenset({"thanks", "goodbye", "greeting", "help"}),
    ),
    Rule(
        "device-sign-in",
        "question",
        _rx(
            r"\b(?:fingerprint|finger print|face recognition|facial recognition|windows hello|"
            r"face id|touch id|face unlock)\b"
        ),
        None,
        "the laptop's fingerprint or face sign-in (Windows Hello), not the account",
        ("my laptop won't unlock with my fingerprint", "windows hello face recognition stopped"),
        frozenset({"unlock_account", "reset_password", "reset_mfa"}),
    ),
    Rule(
        "a-things-password",
        "question",
        _rx(
            rf"\b(?:password|passwords|pin|passcode|code) (?:for|to|on|of) (?:the |my |our |a )?"
            rf"(?:{_THINGS})\b|\b(?:{_THINGS}) (?:password|pin|passcode|code)\b"
        ),
        None,
        "asks about a printer's, Wi-Fi's or door's password or PIN, not the account's",
        ("what's the password for the guest wifi", "how do I get a new pin for the printer"),
        frozenset({"unlock_account", "reset_password", "reset_mfa"}),
    ),
    Rule(
        "a-business-systems-account",
        "raise_ticket",
        _rx(
            rf"^(?=.*\b(?:{_ACCOUNT_WORDS})\b).*(?:\b(?:{_BUSINESS}) (?:{_SYSTEM})\b|"
            rf"\b(?:{_PRODUCTS})\b|\b(?:out of|into|in to|onto|on to) (?:the |my |our )?"
            rf"(?:{_BUSINESS})\b)"
        ),
        None,
        "a payroll, planning or finance system's account: the desk's to sort, not the council "
        "account the bot unlocks",
        (
            "I'm locked out of the planning portal",
            "forgot my password for the finance system",
            "can't log into payroll",
        ),
        frozenset({"unlock_account", "reset_password", "reset_mfa", "out_of_scope"}),
    ),
    Rule(
        "program-code",
        "question",
        _rx(
            r"^(?=.*\bcode\b).*\b(?:compile|compiles|compiling|compiler|script|scripts|macro|"
            r"macros|vba|python|javascript|sql|html|css|syntax|debug|debugging|program|"
            r"programming|source)\b"
        ),
        None,
        "program code (a macro, a script), not a sign-in code",
        ("my code won't compile", "my vba code has stopped working"),
        frozenset({"reset_mfa", "unlock_account", "reset_password"}),
    ),
    Rule(
        ASKS_IF_A_BOT,
        "help",
        _rx(
            r"\b(?:are you|am i (?:talking|speaking|chatting) (?:to|with)|is (?:this|it|that))"
            r" (?:(?:just|only|really|actually) )?(?:an? )?(?:(?:real|actual|live) )?"
            r"(?:bot|robot|chat ?bot|ai|computer|machine|person|human|automated|real)\b"
            r"|\bis it you or an? (?:real |actual )?(?:person|human)\b"
        ),
        _rx(r"\b(?:want|need|speak|talk|give me|get me|put me|call|phone)\b"),
        "asks whether it is talking to a bot or a person (not asking for one)",
        ("are you a bot", "am I talking to a real person", "is it you or a real person"),
        frozenset({"talk_to_human", "out_of_scope", "thanks", "goodbye", "cancel", "greeting"}),
    ),
    Rule(
        NOTHING_NAMED,
        "raise_ticket",
        _rx(
            r"^(?:(?:it|its|it is|this|that|this thing|it just|just|thing) )?"
            r"(?:(?:is|s|has|just) )?(?:not working|doesnt work|does not work|wont work|"
            r"will not work|isnt working|stopped working|broken|not loading|playing up)"
            r"(?: (?:again|at all|anymore|any more|properly|now|today))?$"
        ),
        None,
        "says something is broken but not what: the desk asks what (never an account action)",
        ("it's not working", "this doesn't work", "it has stopped working again"),
        frozenset({"unlock_account", "reset_password", "reset_mfa", "cancel"}),
    ),
    Rule(
        "raise-a-ticket",
        "raise_ticket",
        _rx(
            r"\b(?:raise|log|open|create|submit|put in|put) (?:a |an |me a |this as a )?"
            r"(?:new )?(?:ticket|call|job|fault|incident|service request|request|support ticket)\b"
        ),
        _rx(r"\b(?:status|update|news|progress|chase|happening|any word)\b"),
        "asks for a ticket to be raised",
        (
            "log a fault for the scanner on floor 2",
            "please open a new ticket",
        ),
    ),
)


def rule_cases(rules: Sequence[Rule] = RULES) -> list[tuple[str, str]]:
    """``(intent, message)`` for every rule's cases, in declaration order."""
    return [(rule.intent, case) for rule in rules for case in rule.cases]


def matching(normalised: str, rules: Sequence[Rule] = RULES) -> list[Rule]:
    """The rules that fire on ``normalised`` text, in declaration order."""
    return [rule for rule in rules if rule.matches(normalised)]
