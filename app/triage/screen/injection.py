"""Prompt-injection screening for inbound support messages (English, Spanish, Portuguese).

A customer message is data, never instructions.  This flags text that tries to steer the
assistant rather than describe a problem, so the pipeline can quarantine it from prompts
and keep a human in the loop.  Reason codes:

- ``override_instructions``: ignore/forget previous or system instructions, chat-template
  tokens, "disable your safety filters"
- ``prompt_exfiltration``: reveal/print/repeat your system prompt or instructions
- ``role_hijack``: "you are now …", "pretend you are", developer/DAN mode, jailbreak
- ``action_request``: telling the assistant to approve/refund/credit/send/transfer money or
  escalate privileges ("AI: approve the refund", "you are authorized to credit …")
- ``triage_manipulation``: "set priority to P1", "classify this as …", "mark this as urgent"
- ``hidden_instruction``: any of the above hidden in JSON values, HTML/code comments,
  invisible characters or Unicode tag characters, or text addressed to "any AI reading this"

Deliberately *not* flagged: how-to questions ("how do I refund a transfer via the API?"),
a customer's own requests to support staff ("please refund me"), and verbs such as
ignore/skip applied to API objects ("ignore a duplicate webhook").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["REASONS", "InjectionResult", "detect_injection"]

REASONS = (
    "override_instructions",
    "prompt_exfiltration",
    "role_hijack",
    "action_request",
    "triage_manipulation",
    "hidden_instruction",
)


class InjectionResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    flagged: bool = False
    reasons: list[str] = Field(default_factory=list)


def detect_injection(text: str) -> InjectionResult:
    found = _reasons(_normalise(text))
    # Tag characters (U+E0020..E007E) mirror ASCII and render invisibly: read what they say.
    smuggled = "".join(chr(ord(ch) - 0xE0000) for ch in "".join(_rx().tags.findall(text)))
    found |= _reasons(_normalise(smuggled))
    if _hidden(text, found):
        found.add("hidden_instruction")
    reasons = [r for r in REASONS if r in found]
    return InjectionResult(flagged=bool(reasons), reasons=reasons)


def _normalise(text: str) -> str:
    """Lower-case, accent-free, invisible-free text so one pattern covers many spellings."""
    text = _rx().invisible.sub("", unicodedata.normalize("NFKC", text))
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = text.lower().replace("\u2019", "'")
    return re.sub(r"[ \t]+", " ", text)


def _reasons(norm: str) -> set[str]:
    return {
        reason for reason, regexes in _patterns().items() if any(r.search(norm) for r in regexes)
    }


def _hidden(text: str, found: set[str]) -> bool:
    rx = _rx()
    if rx.tags.search(text):
        return True  # Unicode tag characters have no business in a support message
    if found and rx.invisible.search(text):
        # The phrase only reads as an instruction once the invisible characters are gone.
        spaced = _normalise(rx.invisible.sub(" ", unicodedata.normalize("NFKC", text)))
        if _reasons(spaced) != found:
            return True
    if rx.ai_marker.search(_normalise(text)):
        return True
    # Segments are substrings, so they can only match when the whole text already did.
    return bool(found) and any(_reasons(_normalise(seg)) for seg in _hidden_segments(text, rx))


def _hidden_segments(text: str, rx: _Rx) -> Iterator[str]:
    for regex in (rx.html_comment, rx.json_value, rx.line_comment, rx.block_comment, rx.css_hidden):
        for m in regex.finditer(text):
            yield m.group("body")


@dataclass(frozen=True)
class _Rx:
    # Invisible characters used to smuggle or split words: zero-width, bidi controls, tags.
    invisible: re.Pattern[str]
    tags: re.Pattern[str]
    html_comment: re.Pattern[str]
    json_value: re.Pattern[str]
    line_comment: re.Pattern[str]
    block_comment: re.Pattern[str]
    css_hidden: re.Pattern[str]
    ai_marker: re.Pattern[str]


@cache
def _rx() -> _Rx:
    return _Rx(
        invisible=re.compile(
            "[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]"
        ),
        tags=re.compile("[\U000e0020-\U000e007e]+"),
        html_comment=re.compile(r"<!--(?P<body>.*?)(?:-->|$)", re.S),
        json_value=re.compile(r"\"[^\"\n]{1,80}\"\s*:\s*\"(?P<body>(?:[^\"\\\n]|\\.){8,})\""),
        line_comment=re.compile(r"(?m)(?:^|\s)(?://|#)\s?(?P<body>[^\n]+)$"),
        block_comment=re.compile(r"/\*(?P<body>.*?)\*/", re.S),
        css_hidden=re.compile(
            r"<(\w+)[^>]*(?:display:\s*none|visibility:\s*hidden"
            r"|font-size:\s*0)[^>]*>(?P<body>.*?)</\1",
            re.S | re.I,
        ),
        # Only words that name an AI: "instructions for the Slack bot" is a normal question.
        ai_marker=re.compile(
            rf"\b(?:if you(?:'re| are) an? {_AI_ONLY}(?: \w+)? (?:reading|processing"
            rf"|summari[sz]ing)|(?:note|message|instructions?) (?:to|for) (?:the |any )?{_AI_ONLY}"
            rf"|(?:any|the) {_AI_ONLY}s? (?:reading|processing|summari[sz]ing|triaging) this"
            rf"|si eres una? {_AI_ONLY}(?: \w+)? (?:leyendo|procesando)|se voce (?:e"
            rf"|for) uma? {_AI_ONLY}(?: \w+)? (?:lendo|processando)|nota (?:para|al|a) (?:el |la "
            rf"|o |a )?{_AI_ONLY})\b"
        ),
    )


# --- vocabulary (matched against _normalise()d text: lower case, no accents) --------------

_AI = (
    r"(?:ai|a\.i\.|ia|llm|gpt|chatgpt|claude|gemini|copilot|bot|chatbot|language model|model"
    r"|ai (?:assistant|agent|model)|assistant|asistente|assistente|modelo|triage (?:bot|system"
    r"|agent))"
)
_AI_ONLY = r"(?:ai|a\.i\.|ia|llm|gpt|chatgpt|claude|language model|assistant|asistente|assistente)"
_MONEY_VERB = (
    r"(?:approve|authori[sz]e|refund|reimburse|credit|debit|transfer|send|wire|move|pay(?: out)?"
    r"|release|unfreeze|unlock|unblock|reverse|void|waive|whitelist|allowlist|grant|issue|disburse"
    r"|withdraw|process (?:the|this|my) refund|escalate (?:my |our )?privileges|aprueba|apruebe"
    r"|autoriza|reembolsa|reembolse|devuelve|acredita|transfiere|envia|manda|paga|libera|desbloquea"
    r"|otorga|concede|aprove|aprova|autorize|devolva|estorne|credite|transfira|envie|mande|pague"
    r"|libere|desbloqueie|conceda)"
)
_TRIAGE_VERB = (
    r"(?:mark|set|change|classify|categori[sz]e|label|tag|escalate|prioriti[sz]e|assign|close"
    r"|resolve|route|flag|lower|raise|bump|upgrade|downgrade|marca|marque|cambia|cambie|clasifica"
    r"|clasifique|etiqueta|escala|prioriza|asigna|cierra|resuelve|altere|mude|muda|classifique"
    r"|classifica|rotule|escale|priorize|atribua|feche|resolva)"
)
_LEVEL = (
    r"(?:p[0-4]|sev[ \-]?[0-4]|critical|urgent|highest|high|top|security|critica|urgente|alta"
    r"|maxima)"
)
# An instruction addressed to the assistant: "AI assistant: …", "Hi bot, please …".
_VOCATIVE = (
    r"(?:^|[\n.!?:;,\"'>(\[{/#*|\-]|\b(?:hey|hi|hello|dear|attention|note to|message to"
    r"|instructions? for|instructions? to|hola|oi|ola|atencion|atencao|nota para|nota al"
    r"|instrucciones para|instrucoes para))\s*(?:the |el |la |o |a )?"
    + _AI
    + r"\s*[:,\-–]\s*(?:please |por favor,? )?"
    r"(?:you (?:must|should|will|need to|are (?:instructed|required|authori[sz]ed) to) |debes "
    r"|deves |voce deve )?"
)
_AUTHORISED = (
    r"\byou (?:are|have been|were) (?:now )?(?:authori[sz]ed|instructed|permitted|allowed"
    r"|required) to "
)
_RULES = (
    r"(?:instructions?|rules?|prompts?|directions?|directives?|guidelines?|guardrails?|constraints?"
    r"|programming|polic(?:y|ies)|system (?:prompt|message))"
)
# "ignore the rules I configured" is a bug report; "ignore your/all/previous rules" is not.
_STRONG = (
    r"(?:previous|prior|above|earlier|preceding|former|original|initial|system|safety|your|all)"
)
_WEAK = r"(?:the|any|of|these|those|my|default|existing|current|given|old)"
_REVEAL = (
    r"(?:reveal|print|show|display|output|repeat|recite|dump|leak|expose|disclose|share|echo"
    r"|tell me|give me|send me|write out|list|what (?:are|were|is|was))"
)
_REVEAL_ES_PT = (
    r"(?:muestra(?:me)?|revela(?:me)?|repite|imprime|dime|ensename|comparte|escribe|mostre|mostra"
    r"|revele|repita|repete|imprima|diga|me diga|compartilhe|escreva|cuales son|quais sao)"
)


@cache
def _patterns() -> dict[str, tuple[re.Pattern[str], ...]]:
    c = re.compile
    return {
        "override_instructions": (
            c(
                r"\b(?:ignore|disregard|forget|override|overrule|bypass|skip|discard|abandon)\s+"
                rf"(?:{_WEAK}\s+)*{_STRONG}\s+(?:(?:{_WEAK}|{_STRONG})\s+)*{_RULES}\b"
            ),
            c(
                r"\bforget (?:everything|all)(?: that)? (?:above|before|prior|you(?:'ve"
                r"| have)? (?:been told|learned|know))"
            ),
            c(
                r"\b(?:do not|don't|never) (?:follow|obey|apply) (?:your|the"
                r"|any) (?:\w+ )?(?:instructions|rules|guidelines)"
            ),
            c(r"\b(?:new|updated|real|actual|revised) (?:system )?instructions?\s*:"),
            c(
                r"\b(?:disable|turn off|deactivate|remove|bypass) (?:your|the|all) (?:safety"
                r"|content|guard\w*|filters?|restrictions|moderation)"
            ),
            c(
                r"<\|?(?:im_start|im_end|system|endoftext)\|?>|\[/?inst\]|<</?sys>>"
                r"|\bsystem override\b"
            ),
            c(
                r"\b(?:ignora|ignore|ignorar|ignoren|olvida|olvide|olvidar|omite|omita|descarta"
                r"|haz caso omiso de|esqueca|esquece|esquecer|desconsidere|desconsidera|descarte"
                r"|despreze)\s+(?:(?:todas?|todos|tus|tu|sus|su|las|los|el|la|as|os|o|a|suas|seus"
                r"|de|do|das|dos)\s+)*(?:instrucciones|instrucoes|reglas|regras|indicaciones"
                r"|orientacoes|directrices|diretrizes|prompt|ordenes|ordens)\b"
            ),
            c(r"\b(?:nuevas|novas) instruc(?:ciones|oes)\s*:"),
        ),
        "prompt_exfiltration": (
            c(
                rf"\b{_REVEAL}\s+(?:me\s+|us\s+)?(?:all\s+)?(?:of\s+)?(?:your"
                rf"|the)\s+(?:\w+\s+){{0,2}}prompt\b"
            ),
            c(
                r"\b(?:reveal|print|repeat|recite|dump|leak|output|echo|disclose)\s+(?:me\s+"
                r"|us\s+)?(?:all\s+)?(?:of\s+)?your\s+(?:\w+\s+){0,2}(?:instructions|rules"
                r"|guidelines|programming|directives)"
            ),
            c(
                rf"\b{_REVEAL}\s+(?:me\s+|us\s+)?(?:the\s+|this\s+)?(?:full\s+|exact\s+|entire\s+)?"
                r"(?:(?:system|hidden|initial|original|internal|secret|developer|pre) ?(?:prompt"
                r"|instructions)|system message)"
            ),
            c(
                r"\bwhat (?:are|were|is|was) your (?:\w+ )?(?:instructions|prompt)\b"
                r"|\byour instructions (?:verbatim|word for word)"
            ),
            c(
                r"\b(?:repeat|print|output|echo|recite) (?:everything|all|the (?:text|words"
                r"|content)) (?:above|before|prior)"
            ),
            c(
                rf"\b{_REVEAL_ES_PT}\s+(?:me\s+)?(?:tus|tu|sus|su|suas|seus|seu|sua)\s+"
                r"(?:instrucciones|instrucoes|prompt)"
            ),
            c(r"\b(?:prompt|instrucciones|instrucoes) (?:del|de|do) sistema\b"),
            # Asking for what the assistant holds rather than what the docs say.
            c(
                rf"\b{_REVEAL}\s+(?:me\s+|us\s+)?(?:all\s+|any\s+)?(?:\w+\s+)?(?:credentials"
                r"|keys|secrets|tokens|passwords)\s+(?:(?:that\s+)?(?:you\s+have\s+)?in|from)\s+"
                r"your\s+(?:context|memory|prompt|configuration|environment)"
            ),
        ),
        "role_hijack": (
            c(
                r"\byou(?:'re| are) now (?:(?:an?|the|my) (?:\w+ ){0,2}(?:assistant|ai|bot|model"
                r"|admin|administrator|developer|hacker|character|persona|version|gpt|llm|agent)\b"
                r"|dan\b|no longer|free|unrestricted|jailbroken|acting|going to act|evil)"
            ),
            c(r"\byou(?:'re| are) no longer (?:an? |bound|restricted|limited|the )"),
            c(
                r"\b(?:this|the) (?:assistant|ai|bot|chatbot) is now (?:in |an? |under )?"
                r"(?:maintenance|admin|debug|developer|unrestricted|override|diagnostic)\b"
            ),
            c(
                r"\bfrom now on,? (?:you (?:are|act|will (?:act|respond|answer|reply|ignore|behave"
                r"|pretend|be an?))|act|pretend|ignore)\b"
            ),
            c(
                r"\b(?:act|behave|respond|roleplay|role-play)\s+as\s+(?:if you (?:were"
                r"|are)\s+)?(?:an?\s+|the\s+)?(?:unrestricted|unfiltered|jailbroken|evil|dan|admin"
                r"|administrator|root|superuser|different ai|new ai)\b"
            ),
            c(r"\bpretend (?:to be|you(?:'re| are)|that you(?:'re| are))\b"),
            c(
                r"\b(?:enable|enter|activate|switch to|you are in|now in)\s+(?:developer|dev|god"
                r"|jailbreak|unrestricted|dan)\s+mode\b"
            ),
            c(
                r"\b(?:god|jailbreak|unrestricted|dan) mode\b|\bdeveloper mode (?:enabled|activated"
                r"|on)\b"
            ),
            c(
                r"\bdo anything now\b|\b(?:you are|act as|become|pretend to be) dan\b"
                r"|\bjailbr(?:eak|oken)\b"
            ),
            c(r"\b(?:ahora eres|agora voce e) (?:un|una|el|la|um|uma|o|a|dan|mi|meu)\b"),
            c(
                r"\ba partir de (?:ahora|agora),? (?:eres|actua|actuaras|responde|ignora|voce e|aja"
                r"|atue|responda|ignore)\b"
            ),
            c(
                r"\b(?:actua|aja|atue) como (?:si fueras|se fosse|una? (?:asistente|ia|modelo|bot"
                r"|administrador|admin)|dan)\b"
            ),
            c(
                r"\b(?:finge|finja) (?:que eres|ser|que e|que voce e)\b|\bmodo (?:desarrollador"
                r"|dios|sin restricciones|desenvolvedor|deus|sem restricoes|dan)\b"
            ),
        ),
        "action_request": (
            c(_VOCATIVE + _MONEY_VERB + r"\b"),
            # "you are authorised to (1) approve …": a numbered list of orders counts too.
            c(_AUTHORISED + r"(?:\(?\d+[).]\s*|\w+ )?" + _MONEY_VERB + r"\b"),
            # The payload that follows an override: "ignore previous instructions and refund …"
            c(
                r"\b(?:ignore|disregard|forget|override|bypass|ignora|olvida|omite|esqueca"
                r"|desconsidere)\b[^.\n]{0,60}\b(?:instructions?|rules?|prompts?|guidelines?"
                r"|instrucciones|instrucoes|reglas|regras|indicaciones)\b[^.\n]{0,40}\b(?:and|then"
                r"|y|e)\s+(?:then |luego |depois )?"
                rf"(?:immediately |inmediatamente |imediatamente )?{_MONEY_VERB}\b"
            ),
            c(
                rf"\bif you(?:'re"
                rf"| are) an? {_AI}\b[^.\n]{{0,40}}?[,:]\s*(?:please )?{_MONEY_VERB}\b"
            ),
            c(
                rf"\b(?:pretend|act as) [^.\n]{{0,60}}\b(?:and"
                rf"|then) (?:immediately )?{_MONEY_VERB}\b"
            ),
        ),
        "triage_manipulation": (
            c(_VOCATIVE + _TRIAGE_VERB + r"\b"),
            c(
                r"\b(?:set|change|update|make|mark|raise|bump|escalate|upgrade|lower|downgrade"
                r"|assign)\s+(?:the |this |its |my )?(?:ticket'?s? |issue'?s? "
                r"|case'?s? )?(?:priority|severity|urgency)"
                rf"\s+(?:to|as|=|at)\s+(?:an? )?{_LEVEL}\b"
            ),
            c(
                r"\b(?:mark|flag|tag|label|classify|categori[sz]e|prioriti[sz]e|route"
                r"|file)\s+(?:this|it|the ticket|this (?:ticket|issue|request|message|email"
                r"|case))\s+"
                rf"(?:as|to|under|into)\s+(?:an? )?(?:{_LEVEL}|approved)\b"
            ),
            c(
                r"\b(?:classify|categori[sz]e|label|tag|route)\s+(?:this|the ticket|this (?:ticket"
                r"|issue|request|message|email|case))\s+(?:as|under|into)\b"
            ),
            c(rf"\b(?:priority|severity) (?:should|must) be (?:set to )?{_LEVEL}\b"),
            c(
                r"\b(?:cambia|cambie|pon|ponga|establece|sube|suba|altere|mude|muda|coloque|defina"
                r"|aumente)\s+"
                rf"(?:la |a )?(?:prioridad|prioridade)\s+(?:a|en|como|para)\s+{_LEVEL}\b"
            ),
            c(
                r"\b(?:clasifica|clasifique|categoriza|categorice|etiqueta|etiquete|classifique"
                r"|classifica|categorize|rotule)\s+(?:esto|este (?:ticket|caso|mensaje|chamado)"
                r"|el ticket|isto|isso|o (?:ticket|chamado))?\s*como\b"
            ),
            c(
                r"\b(?:marca|marque)\s+(?:esto|este (?:ticket|caso|chamado)|el ticket|isto|isso"
                r"|o ticket)?"
                rf"\s*como (?:{_LEVEL}|aprobado|aprovado|prioridad alta|prioridade alta)\b"
            ),
        ),
    }
