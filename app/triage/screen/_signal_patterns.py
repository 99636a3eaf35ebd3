"""Compiled regex tables behind ``signals.extract_signals``.

Kept apart so the extraction logic stays readable.  Patterns run on the original text
unless noted; environment, SDK, money-stuck and outage patterns run on the accent-free,
lower-cased copy, so they are written in plain lower-case ASCII.  Compiled on first use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus

from app.triage import vocabulary


@dataclass(frozen=True)
class SignalPatterns:
    status_strong: tuple[re.Pattern[str], ...]
    status_weak: tuple[re.Pattern[str], ...]
    code_field: re.Pattern[str]
    method_path: re.Pattern[str]
    client_call: re.Pattern[str]
    curl: re.Pattern[str]
    url: re.Pattern[str]
    api_url: re.Pattern[str]
    id_segment: re.Pattern[str]
    request_id: tuple[re.Pattern[str], ...]
    idempotency_key: re.Pattern[str]
    api_version: re.Pattern[str]
    sdk: tuple[tuple[re.Pattern[str], str], ...]
    language: tuple[tuple[str, re.Pattern[str], int], ...]
    prod_strong: re.Pattern[str]
    sandbox_strong: re.Pattern[str]
    prod_weak: re.Pattern[str]
    sandbox_weak: re.Pattern[str]
    money_stuck: tuple[re.Pattern[str], ...]
    outage: tuple[re.Pattern[str], ...]


_CODE = r"(?P<code>[1-5]\d\d)"
# Numbers followed by these are amounts, durations or counts, not statuses.
_NOT_STATUS = (
    r"(?!s?\s*(?:usd|eur|gbp|brl|mxn|ars|cop|inr|btc|sats?|usdc|usdt|dollars?|reais|pesos|%|ms"
    r"|milliseconds?|seconds?|secs?|minutes?|mins?|hours?|days?|times|requests|transactions"
    r"|transfers|payments|customers|users|items|records|rows|mb|kb|gb|x\b|k\b|[.,]\d))"
)
_TARGET = (
    r"(?P<target>https?://[^\s\"'`<>\\]+|\$\{?\w+\}?/[^\s\"'`<>\\]*|/[A-Za-z{$][^\s\"'`<>\\]*)"
)
_TOKEN = r"(?P<value>[A-Za-z0-9][\w:.\-]{5,127})"


@cache
def patterns() -> SignalPatterns:
    c = re.compile
    money, stuck = vocabulary.alternation("money"), vocabulary.alternation("stuck")
    prod = vocabulary.alternation("production_words")
    phrases = "|".join(sorted({re.escape(s.phrase) for s in HTTPStatus}, key=len, reverse=True))
    languages: list[tuple[str, str, int]] = [
        ("python", r"(?i)\bpython\d?\b|Traceback \(most recent call last\)|File \"[^\"]+\.py\"", 3),
        (
            "python",
            r"\bimport (?:requests|httpx)\b|\bdef \w+\(|\brequests\.(?:get|post)\(|\bpip install\b",
            2,
        ),
        ("typescript", r"(?i)\btypescript\b|\bts-node\b|\w\.tsx?\b(?!\w)", 3),
        ("typescript", r":\s*(?:string|number|boolean)\b|\binterface \w+ \{", 1),
        (
            "javascript",
            r"(?i)\b(?:javascript|node\.?js|nodejs)\b|\bat .+\((?:node:|[^)]+\.m?js:\d+)",
            3,
        ),
        (
            "javascript",
            r"(?i)\bnode (?:v?\d+|sdk|app|server|backend)\b|\brequire\(['\"]|\baxios\b",
            2,
        ),
        (
            "javascript",
            r"\bnpm (?:install|i|run)\b|\byarn add\b|\bconsole\.log\(|\bawait fetch\(",
            2,
        ),
        (
            "go",
            r"(?i)\bgolang\b|\bpackage main\b|\berr != nil\b|\bgoroutine\b|\w\.go:\d+|\bgo\.mod\b",
            3,
        ),
        (
            "go",
            r"\bin Go\b|\bGo (?:SDK|sdk|client|code|app|service)\b|\bfunc \w*\(|\bnet/http\b",
            2,
        ),
        (
            "java",
            r"\b[Jj]ava\b|Exception in thread|\bat [\w.$]+\(\w+\.java:\d+\)|System\.out\.print",
            3,
        ),
        (
            "java",
            r"\bpublic (?:static )?(?:void|class)\b|\bOkHttp(?:Client)?\b|\bSpring(?: Boot)?\b",
            2,
        ),
        ("kotlin", r"(?i)\bkotlin\b|\bsuspend fun\b|\.kt:\d+|\w\.kts?\b(?!\w)", 3),
        ("kotlin", r"\bfun \w+\(|\bval \w+\s*[:=]", 2),
        (
            "swift",
            r"(?<![A-Z])[Ss]wift\b(?!\s*(?i:code|transfer|wire|network|bic|payment|message|gpi"
            r"|number|id|mt\d*)s?\b)|\bURLSession\b|\bimport (?:Foundation|UIKit|SwiftUI"
            r"|CryptoKit)\b",
            3,
        ),
        ("swift", r"\bguard let\b|\bif let\b|\bXcode\b|\w\.swift\b", 2),
        ("ruby", r"(?i)\bruby\b|\bFaraday\b|\bHTTParty\b|\w\.rb\b|\bgem install\b|\bGemfile\b", 3),
        ("php", r"(?i)\bphp\b|<\?php|\bGuzzle(?:Http)?\b|\bcomposer require\b", 3),
        ("php", r"\$\w+->\w+", 2),
        ("csharp", r"\bC#|\b(?i:csharp|dotnet|asp\.net)\b|\busing System\b|\w\.cs\b(?!\w)", 3),
        ("rust", r"(?i)\brust\b|\breqwest\b|\blet mut\b|\bcargo\b|\.unwrap\(\)", 3),
        ("curl", r"\bcurl\s+(?:-|['\"]?https?://|['\"]?\$)", 3),
    ]
    return SignalPatterns(
        status_strong=(
            c(rf"(?i)\bHTTP(?:/\d(?:\.\d)?)?\s*:?\s*{_CODE}\b"),
            c(rf"(?i)\bstatus(?:[ _-]?code)?[\"']?\s*(?:[:=]{{1,3}}|is|was)?\s*[\"']?{_CODE}\b"),
            c(rf"(?i)\b{_CODE}\s*[-:]?\s*(?:{phrases}|client error|server error)\b"),
        ),
        status_weak=(
            c(
                rf"(?i)\b(?:got|get|getting|gets|returned|returns|returning|receive[sd]?|receiving"
                rf"|came|comes|coming|gives?|gave|giving"
                rf"|throws?|throwing|threw|respond(?:s|ed)? with|seeing|see|saw|hit|hitting|errors?"
                rf"|codes?|fail(?:s|ed|ing)? with|fallan? con|falham? com|erro|codigo|código"
                rf"|devuelve|devolvi[oó]|retorna|retornou|recibo|recibimos|recebo|recebemos|obtengo"
                rf"|obtenemos)\s+(?:(?:an?|the|back|http|error|status|un|uma?|el"
                rf"|o)\s+)*(?<![$€£]){_CODE}s?\b{_NOT_STATUS}"
            ),
            c(rf"(?i)(?<![$€£\d.,]){_CODE}s?\s+(?:errors?|responses?|status|http)\b"),
            c(
                rf"(?i)(?<![$€£\d.,]){_CODE}s\s+(?:everywhere|across|on (?:all|every)|for (?:all"
                rf"|every))"
            ),
            # A call and its answer written with an arrow: "POST /quotes/…/execute -> 409".
            # Not "=>": PHP and Ruby hashes write "'amount' => 500".
            c(rf"(?i)(?:->|→|⇒)\s*(?:HTTP\s*)?{_CODE}\b{_NOT_STATUS}"),
            # Portuguese and Spanish "come back with": "voltam 409", "regresa un 400".
            c(
                rf"(?i)\b(?:volta|voltam|voltou|voltaram|regresa|regresan|regreso|regresó)\s+"
                rf"(?:(?:um|uma|un|una|el|o|http|erro|error|status)\s+)*{_CODE}s?\b{_NOT_STATUS}"
            ),
        ),
        code_field=c(
            r"[\"']?(?:code|error_?code|errorCode"
            r"|error)[\"']?\s*[:=]\s*[\"']?(?P<code>[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b"
        ),
        method_path=c(
            r"(?<![\w-])(?P<method>GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+" + _TARGET, re.I
        ),
        client_call=c(
            r"\b(?:requests|httpx|axios|client|session|http|got|ky|api)\.(?P<method>get|post|put"
            r"|patch|delete)\(\s*[fr]?[\"'`](?P<target>(?:https?://|/|\$?\{?\w+\}/"
            r"|\$\w+/)[^\"'`\s]*)"
        ),
        curl=c(r"\bcurl\b(?:[^\n]|\\\n)*"),
        url=c(r"https?://[^\s\"'`<>\\]+|\$\{?\w+\}?/[^\s\"'`<>\\]*"),
        api_url=c(r"https?://(?:api\.[^\s\"'`<>\\]+|[^\s\"'`<>\\]*/grid/[^\s\"'`<>\\]*)"),
        id_segment=c(
            r"[A-Za-z]+:[\w\-]+"
            r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\d+"
            r"|\$\{?\w+\}?|(?=[\w\-]*\d)[\w\-]{16,}|\[REDACTED:\w+\]"
        ),
        request_id=(
            c(r"\b(?P<value>req_[A-Za-z0-9]{6,})\b"),
            c(
                r"(?i)\b(?:x-)?request[ _-]?id\b[\"']?\s*(?:[:=]|is|was)?\s*[\"'`]?(?!req_)"
                + _TOKEN
            ),
        ),
        idempotency_key=c(
            r"(?i)\bidempotency[ _-]?key\b[\"']?\s*(?:[:=]|is|was|of)?\s*[\"'`]?" + _TOKEN
        ),
        api_version=c(
            r"(?i)/grid/(\d{4}-\d{2}-\d{2})\b|\b(?:grid|lightspark"
            r"|api)[ _-]?version[\"']?\s*[:=]?\s*[\"']?(\d{4}-\d{2}-\d{2})\b"
        ),
        sdk=(
            (
                c(
                    r"grid-js-sdk|@lightsparkdev/grid|\b(?:js|javascript|node(?:\.?js)?|typescript"
                    r"|ts) sdk\b"
                ),
                "grid-js-sdk",
            ),
            (
                c(r"grid-kotlin-sdk|\bcom\.lightspark\b|\b(?:kotlin|java|jvm|android) sdk\b"),
                "grid-kotlin-sdk",
            ),
            (c(r"\bgrid[ -]cli\b|grid-api/cli\b"), "grid-cli"),
            (c(r"\bgrid[ _-]mcp\b|mcp\.docs\.lightspark\.com|\bmcp server\b"), "grid-mcp"),
            (c(r"\bpostman\b"), "postman"),
            (
                c(
                    r"\b(python|go|golang|ruby|php|swift|rust|\.net|c#|ios|flutter"
                    r"|react native) sdk\b"
                ),
                "{0}-sdk",
            ),
        ),
        language=tuple((lang, c(pattern), weight) for lang, pattern, weight in languages),
        prod_strong=c(
            rf"\b(?:in|on|from|against|hitting|using|with) (?:the |our )?(?:{prod}|live)\b"
            r"|\bprod(?:uction)? (?:credentials?|keys?|api|environment|env|traffic"
            r"|customers?|account|is|are|outage|issue|incident|only)\b|\b(?:went|go|going|gone|are"
            r"|is) live\b|\blive (?:mode|keys?|environment|traffic)\b"
            rf"|\b(?:en|em|(?:entorno|ambiente) de) {prod}\b|\bsk_live_"
        ),
        sandbox_strong=c(
            r"\b(?:in|on|from|against|hitting|using|with) (?:the |our |my )?sandbox\b|/sandbox/"
            r"|\bsandbox (?:credentials?|keys?|api|environment|env|account|mode|tokens?)\b"
            r"|sandbox_token|\b(?:en|em) (?:el |o )?sandbox\b|\b(?:entorno|ambiente) de (?:pruebas"
            r"|testes|sandbox)\b|\btest mode\b|\btestnet\b|\bregtest\b"
        ),
        prod_weak=vocabulary.pattern("production_words"),
        sandbox_weak=vocabulary.pattern("sandbox_words"),
        money_stuck=(
            # A money word, then within the sentence a word saying it is stuck or gone.  A
            # full stop inside "22.000 USDC" or "OUTGOING_PAYMENT.REFUND_PENDING" ends no sentence.
            c(rf"\b{money}\b(?:[^.!?\n]|\.(?=\S)){{0,60}}?\b{stuck}"),
            *vocabulary.patterns("money_missing"),
        ),
        outage=vocabulary.patterns("outage"),
    )
