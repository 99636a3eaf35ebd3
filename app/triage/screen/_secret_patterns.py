"""Regex tables, overlap precedence and detect-secrets detectors behind ``redact_secrets``.

Kept apart so the redaction logic stays readable; everything is compiled or instantiated on
first use, never at import time (importing detect-secrets and the BIP-39 list is slow).
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from typing import Any

from app.triage.screen.id_shapes import UUID

_B58 = "1-9A-HJ-NP-Za-km-z"
_KEY = r"(?P<key>[^\W\d][\w.\-]{0,80}(?: [^\W\d][\w\-]{0,40})?)[\"'\]]{0,2}\s*(?:=|:|=>|:=)\s*"

PATTERNS: dict[str, str] = {
    "pem_begin": r"-{3,5} ?BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)? ?-{3,5}|PuTTY-User-Key-File",
    "key_end": r"-{3,5} ?END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)? ?-{3,5}|Private-MAC: *[0-9a-f]+",
    "key_body": (
        r"[^\n]*(?:(?:\n[ \t]*)?\n[ \t]*(?:[A-Za-z0-9+/=]{16,}|(?:Proc-Type|DEK-Info|Comment"
        r"|Encryption|Public-Lines|Private-Lines|Key-Derivation"
        r"|Argon2-[\w-]+)[\w-]*:[^\n]*)[ \t]*(?=\n|$))*"
    ),
    "bare_private_key": (
        rf"(?<![{_B58}])(?:5[HJK][{_B58}]{{49}}|[KL][{_B58}]{{51}}"
        rf"|[xtyzuv]prv[{_B58}]{{100,108}})(?![{_B58}])|\bnsec1[02-9ac-hj-np-z]{{58}}\b"
    ),
    "aws_key_id": r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}",
    "token_char": r"[A-Za-z0-9_\-.+/=]",
    "long_token": r"[A-Za-z0-9_\-+/=]{12,}",
    "keyword_hint": r"(?i)key|pass|pwd|secret|contrase",
    "kv_quoted": r"(?<![\w.\-])" + _KEY + r"(?P<q>[\"'`])(?P<secret>[^\"'`\s]{1,512})(?P=q)",
    # Possessive, and not followed by "(" or ".": "key = make_key()" is code, not a value.
    # Nor starting with ":" or "=": "token::Client" is a path and "token == x" a comparison.
    "kv_unquoted": (
        r"(?<![\w.\-])" + _KEY + r"(?P<secret>(?![:=])[^\s\"'`,;&(){}\[\]<>]{1,512}+)(?![(.\w])"
    ),
    # <ClientSecret>…</ClientSecret>: the element name is the key.
    "xml_element": r"<(?P<key>[A-Za-z][\w.\-]{0,60})>(?P<secret>[^<>\s]{4,512})</(?P=key)>",
    "key_before": (
        r"(?P<key>[^\W\d][\w.\-]{0,80})[\"'\]]{0,2}\s*(?:=|:|=>|:=|!==?|===?|\(|\+=)\s*@?[\"'`]?$"
    ),
    "secret_key": (
        r"(?:^|_)(?:client_?secret|client_?id|api_?(?:client_?)?(?:key|secret|token)(?:_?id)?"
        r"|secret(?:_?key|_?base32(?:_?encoded)?|_?access_?key)?|app_?secret|consumer_?secret|token_?(?:id"
        r"|secret)|(?:access|refresh|auth|bearer|oidc|id|session)_?token|token"
        r"|webhook_?(?:signing_?)?secret|signing_?(?:secret|key)|priv(?:ate)?_?key|password|passwd"
        r"|pwd|passphrase|contrase[ñn]a|senha|macaroon)$"
        # PGPASSWORD, MYSQL_ROOTPASSWORD, DBPASS: a password however the key is glued.
        r"|[a-z](?:password|passwd|passphrase)$"
    ),
    "placeholder": (
        r"[{<\[%].*|\$[{(A-Za-z_].*|[x*.•…_#\-]{3,}|[a-z]+(?:_[a-z]+)+|[A-Z]+(?:_[A-Z]+)+"
        r"|[a-z]+(?:[A-Z][a-z]+)+|[A-Z](?=[A-Za-z]*[a-z])[A-Za-z]*|(?i:(?:your|my|the|example"
        r"|sample|dummy|fake|redacted|placeholder)[_\-][\w\-]*|(?:your|example|sample|dummy"
        r"|placeholder)\w*|[\w\-]*[_\-](?:here|placeholder|password|secret|token)|changeme|password|secret|token|required"
        r"|invalid|missing|incorrect|wrong|expired|empty|null|none|nil|true|false|undefined|string"
        r"|hidden|masked|omitted|removed|must|should|reset|changed|sandbox-valid-signature)"
    ),
    "code_reference": (
        r"(?:process\.env|import\.meta\.env|os\.environ|os\.getenv|System\.getenv|ENV|env|getenv"
        r"|config|settings|self|this|props|secrets|vars|creds|credentials|options"
        r"|cfg)\b[\w.\[\]'\"()$\-]*|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+"
    ),
    "benign_value": (
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
        r"|[a-z]{2,12}_[A-Za-z0-9\-]+|[A-Za-z]+:[\w\-]+|\d{4}-\d\d-\d\d[\w:.+\-]*"
    ),
    # A typed resource id ("Token:019f…", "Customer:019f…"): the API's own identifiers, which
    # the docs say are not secret, even when the type is a bare "Token" (its secret is the
    # separate clientSecret).  Never a type that names a credential ("AccessToken:…",
    # "RefreshToken:…", "Session:…", "ApiKey:…").
    "typed_identifier": (
        r"(?<![\w:])(?!(?i:\w*(?:secret|passw|pwd|key|session|bearer|auth|credential|cookie)"
        r"|\w+token))[A-Z][a-z]+(?:[A-Z][a-z]+)*:"
        rf"(?P<uuid>{UUID})(?![\w\-])"
    ),
    "public_identifier": (
        r"(?i)(?:ln(?:bc|tb|bcrt|tbs|url)|bc1|tb1|bcrt1|sp1|sprt1|spark1|npub1|[xtyz]pub|0x)"
    ),
    "benign_context": (
        r"(?i)(?<![a-z0-9])(?:ids?|hash|address|addr|invoice|request|signature|sig|public|pubkey"
        r"|nonce|payload|cursor|etag|checksum|digest|url|uri|path|memo|ref|reference|encrypted"
        r"|bundle|challenge|salt|txid|description|message|name|email|phone|data|image|file|code"
        r"|sign|cert|certificate|idempotency|correlation|trace|external|order|lookup|quote"
        r"|transaction|customer|account|wallet)(?![a-z0-9])"
    ),
    "card_candidate": r"(?<![\w.+/\-])(?:\d[ \-]?){12,18}\d(?![\w\-])",
    "word": r"(?<![A-Za-z0-9_])[A-Za-z]+(?![A-Za-z0-9_])",
    "phrase_gap": r"[\s,\"'\[\]]*(?:\d{1,2}[.):\-]?[\s,\"'\[\]]*)?",
    "production_words": (
        r"(?i)\b(?:prod|production|mainnet|live[ _\-]?(?:mode|keys?|env\w*|credentials?|traffic|api"
        r"|account|secret)|(?:go|goes|went|going|gone|are|is|be|been)[ \-]live|producci[oó]n"
        r"|produ[cç][aã]o)\b|\b[sr]k_live_"
    ),
    "sandbox_words": (
        r"(?i)sandbox|\btest(?:ing)?[ _\-]?(?:mode|env\w*|keys?|credentials?|net)\b|\bregtest\b"
        r"|\bstaging\b|\blocalhost\b|127\.0\.0\.1|\bsignet\b|\bpruebas\b|\btestes\b"
        r"|\bhomologa[cç][aã]o\b"
    ),
    "api_url": r"https?://(?:api\.[^\s\"'<>`]+|[^\s\"'<>`]*/grid/[^\s\"'<>`]*)",
}

# (pattern, kind): each has a `secret` group, and optionally the `id` half of a pair.
VALUE_PATTERNS: tuple[tuple[str, str], ...] = (
    # An "id:secret" pair after Bearer is one token: the secret half must not survive.
    (
        r"(?i)\bbearer\s+(?P<secret>[A-Za-z0-9\-._~+/]{6,}=*(?::[A-Za-z0-9\-._~+/]{6,}=*)?)",
        "bearer_token",
    ),
    # A bare "<uuid>:<secret>" pair, as Grid credentials are pasted; the secret half must
    # look random (letters and digits) and not be another uuid.
    (
        r"(?<![\w:])(?P<id>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
        r"-[0-9a-fA-F]{12}):(?![0-9a-fA-F]{8}-[0-9a-fA-F]{4}-)"
        r"(?P<secret>(?=[\w\-+/=.~]*\d)(?=[\w\-+/=.~]*[A-Za-z])[\w\-+/=~]{16,256}+)",
        "api_secret",
    ),
    (r"(?i)\bbasic\s+(?P<secret>[A-Za-z0-9+/]{12,}={0,2})(?![\w+/=])", "basic_auth"),
    # A quoted "id:secret" string, as code builds Basic auth from it (`Buffer.from('id:secret')`,
    # `btoa("id:secret")`, `b64encode(b"id:secret")`): both halves look random (letters and
    # digits); a Grid object id ("Customer:0199f1c3-…", a type name and a uuid) does not.
    (
        r"(?P<q>[\"'`])(?P<id>(?=[A-Za-z0-9_\-]*\d)(?=[A-Za-z0-9_\-]*[A-Za-z])[A-Za-z0-9_\-]{8,64}):"
        r"(?![0-9a-fA-F]{8}-[0-9a-fA-F]{4}-)"
        r"(?P<secret>(?=[\w\-+/=.~]*\d)(?=[\w\-+/=.~]*[A-Za-z])[\w\-+/=~]{16,256})(?P=q)",
        "api_secret",
    ),
    (
        (
            r"(?:^|\s)(?:-u|--user|--auth)(?:\s+"
            r"|=)(?P<q>[\"']?)(?P<id>[^\s:\"']+):(?P<secret>[^\s\"']+)(?P=q)"
        ),
        "api_secret",
    ),
    (
        (
            # "AUTH = (...)" as a module constant is the same pair as "auth=(...)".
            r"(?:\b(?i:auth)\s*=\s*\(|\bHTTPBasicAuth\s*\("
            r"|\bCredentials\.basic\s*\()\s*(?P<q1>[\"'])(?P<id>[^\"'\n]+)(?P=q1)\s*,\s*(?P<q2>[\"'])(?P<secret>[^\"'\n]+)(?P=q2)"
        ),
        "api_secret",
    ),
    (
        # Scheme tried only where a run of scheme characters starts, and bounded: an
        # unbounded scheme made a long run of letters quadratic (50,000 "a" took seconds).
        r"(?<![a-z0-9+.\-])[a-z][a-z0-9+.\-]{0,30}://"
        r"(?P<id>[^\s:/?#@\"'<>]+):(?P<secret>[^\s/?#@\"'<>]+)@",
        "basic_auth",
    ),
    (r"\b(?P<secret>whsec_[A-Za-z0-9+/=_\-]{16,})", "webhook_secret"),
    (r"\b(?P<secret>[sr]k_(?:live|test)_[A-Za-z0-9]{10,})", "stripe_key"),
    (r"\b(?P<secret>sk-ant-[A-Za-z0-9_\-]{32,})", "anthropic_key"),
    (
        r"\b(?P<secret>sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{32,})",
        "openai_key",
    ),
    (r"\b(?P<secret>AIza[0-9A-Za-z_\-]{35})", "google_api_key"),
    (r"\b(?P<secret>npm_[A-Za-z0-9]{36})(?![A-Za-z0-9])", "npm_token"),
    (
        r"(?P<secret>https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[\w\-]{20,})",
        "discord_webhook",
    ),
    (
        r"\b(?P<secret>eyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{10,})",
        "jwt",
    ),
)

# Higher wins when findings overlap (a JWT inside an Authorization header is a "jwt").
PRIORITY: dict[str, int] = {
    "private_key": 100,
    "recovery_phrase": 95,
    "jwt": 85,
    "webhook_secret": 75,
    "bearer_token": 65,
    "basic_auth": 60,
    "api_secret": 55,
    "access_token": 55,
    "password": 50,
    "client_id": 45,
    "card_number": 40,
    "generic_high_entropy": 10,
}
VENDOR_PRIORITY = 80
# An explicit `id:secret` pair says what each half is; a vendor regex that happens to span the
# colon (Telegram's `digits:token` inside `-u <uuid>:<secret>`) does not.  Structural kinds
# ranked above vendors (JWT, private key, recovery phrase) still name the secret half.
PAIR_PRIORITY = VENDOR_PRIORITY + 1

# (kind, detect_secrets.plugins module, class): vendor formats detect-secrets already knows.
_VENDOR_PLUGINS = (
    ("aws_access_key", "aws", "AWSKeyDetector"),
    ("azure_storage_key", "azure_storage_key", "AzureStorageKeyDetector"),
    ("discord_token", "discord", "DiscordBotTokenDetector"),
    ("github_token", "github_token", "GitHubTokenDetector"),
    ("gitlab_token", "gitlab_token", "GitLabTokenDetector"),
    ("jwt", "jwt", "JwtTokenDetector"),
    ("mailchimp_key", "mailchimp", "MailchimpDetector"),
    ("npm_token", "npm", "NpmDetector"),
    ("openai_key", "openai", "OpenAIDetector"),
    ("pypi_token", "pypi_token", "PypiTokenDetector"),
    ("sendgrid_key", "sendgrid", "SendGridDetector"),
    ("slack_token", "slack", "SlackDetector"),
    ("square_secret", "square_oauth", "SquareOAuthDetector"),
    ("stripe_key", "stripe", "StripeDetector"),
    ("telegram_token", "telegram_token", "TelegramBotTokenDetector"),
    ("twilio_key", "twilio", "TwilioKeyDetector"),
)


@cache
def rx(name: str) -> re.Pattern[str]:
    return re.compile(PATTERNS[name])


@cache
def value_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(pattern), kind) for pattern, kind in VALUE_PATTERNS)


@cache
def english_mnemonic() -> Any:
    from mnemonic import Mnemonic

    return Mnemonic("english")


@cache
def bip39_words() -> frozenset[str]:
    return frozenset(english_mnemonic().wordlist)


def _plugin(module: str, name: str, **kwargs: Any) -> Any:
    return getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), name)(**kwargs)


@cache
def vendor_plugins() -> dict[str, Any]:
    return {kind: _plugin(module, name) for kind, module, name in _VENDOR_PLUGINS}


@cache
def generic_plugins() -> dict[str, Any]:
    return {
        "private_key": _plugin("private_key", "PrivateKeyDetector"),
        "keyword": _plugin("keyword", "KeywordDetector"),
        # detect-secrets' default limits; quoted strings only, plus length floors in _entropy_hits.
        "base64": _plugin("high_entropy_strings", "Base64HighEntropyString", limit=4.5),
        "hex": _plugin("high_entropy_strings", "HexHighEntropyString", limit=3.0),
    }
