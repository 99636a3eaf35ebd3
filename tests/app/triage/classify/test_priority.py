"""Priority decisions on realistic support messages: every P1 recalled, nothing inflated.

The category is given (what the classifier would say); signals come from the real
extractor, so these cover the cue vocabularies and the rules together.
"""

from __future__ import annotations

import pytest

from app.triage.classify.priority import decide_priority
from app.triage.classify.taxonomy import load_taxonomy
from app.triage.screen.signals import extract_signals


def _priority(text: str, category: str, *, production_secret: bool = False) -> str:
    default = load_taxonomy().categories[category].default_priority
    decision = decide_priority(
        category=category,
        default=default,
        signals=extract_signals(text),
        text=text,
        production_secret=production_secret,
    )
    return decision.priority


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # Production outages written calmly, with no "down" or "outage" in them.
        (
            "Hi all, not sure if it's just us, but since around 13:40 UTC every POST /quotes "
            "call from our production servers hangs until our 30s timeout. Nothing deployed "
            "on our side today. Could someone take a look when you get a chance?",
            "incident_outage",
        ),
        (
            "Morning. Our production dashboard shows no completed payouts since midnight "
            "across all corridors, the transactions just sit in PROCESSING.",
            "incident_outage",
        ),
        (
            "Is the API having issues? For about half an hour all our live requests come back "
            "with 502 Bad Gateway. Sandbox looks fine.",
            "incident_outage",
        ),
        (
            "Since 14:05 UTC every POST /quotes in production returns 500 "
            '{"status":500,"code":"INTERNAL_ERROR"}. All corridors, all customers.',
            "incident_outage",
        ),
        (
            "hey, our webhook endpoint has received nothing from production since ~9:15 UTC. "
            "we can see transactions completing when we poll, so it's only the deliveries.",
            "webhooks",
        ),
        (
            "Buenos días, desde las 8 am ninguna transferencia SPEI de nuestros clientes en "
            "producción se ha completado, todas se quedan en PENDING.",
            "incident_outage",
        ),
        (
            "Pessoal, desde as 14h nenhuma requisição em produção está passando, tudo dá "
            "timeout. Não mudamos nada do nosso lado.",
            "incident_outage",
        ),
        # Money stuck or missing in production.
        (
            "Hello, one of our business customers sent a USD wire of $84,500 to their deposit "
            "instructions on Monday (production). Their bank confirms it left. Today is "
            "Thursday and the internal account balance hasn't changed.",
            "transfers_payments",
        ),
        (
            "Oi, um cliente fez um PIX de R$ 15.000 para a conta de depósito dele ontem, em "
            "produção, e o saldo da conta interna continua zerado.",
            "accounts_wallets",
        ),
        (
            "Our platform USD internal account was debited three times for the same payout "
            "this morning in production. $27,000 left instead of $9,000.",
            "transfers_payments",
        ),
        (
            "prod payout Transaction:019d2a41-8c3e-7b5f-a1d2-3e4f5a6b7c8d (62,500 MXN via "
            "SPEI) has been PROCESSING since Monday. customer is escalating hard.",
            "transfers_payments",
        ),
        (
            "Un retiro de 3,000 USDC que hicimos ayer en producción a la wallet de un cliente "
            "aparece como COMPLETED pero el dinero nunca llegó a la dirección.",
            "transfers_payments",
        ),
        (
            "URGENT card transaction EXCEPTION in production. Restaurant authorized $48.00 and "
            "cleared $61.50. Where did the $13.50 go?",
            "cards",
        ),
        # Security exposure, even when the category model missed "security".
        (
            "turns out our mobile app bundle (live on the app store) includes the production "
            "client id and secret in a config file. someone on reddit pointed it out.",
            "onboarding_kyc",
        ),
        (
            "Quick heads-up: a contractor put a screenshot showing our live client secret on a "
            "public Jira board for two days before we noticed.",
            "security",
        ),
        (
            "Um funcionário que saiu da empresa ontem ainda tem acesso ao painel e às "
            "credenciais de produção. Como revogamos tudo agora?",
            "security",
        ),
    ],
)
def test_production_emergencies_are_p1(text: str, category: str) -> None:
    assert _priority(text, category) == "P1"


def test_a_pasted_production_credential_is_p1_in_any_category() -> None:
    text = "why is this 401ing? curl -u [REDACTED:client_id]:[REDACTED:api_secret] ..."
    assert _priority(text, "auth_api_access", production_secret=True) == "P1"


@pytest.mark.parametrize(
    ("text", "category", "expected"),
    [
        # Questions about incidents or downtime are not incidents.
        (
            "What's your incident communication process? If the API goes down, how do we get "
            "notified, and is there a status page we can subscribe to?",
            "incident_outage",
            "P2",
        ),
        (
            "What's the recommended way to rotate API credentials every 90 days without "
            "downtime? Compliance requires it.",
            "auth_api_access",
            "P3",
        ),
        # The sandbox is never an emergency.
        (
            "sandbox API down? every call from our CI gets 503 for the last hour. prod is "
            "fine, not urgent.",
            "incident_outage",
            "P3",
        ),
        # Every call failing with 401 in production is the integration's own credentials.
        (
            "Em produção todas as chamadas estão falhando com 401 UNAUTHORIZED, em sandbox "
            "funciona. Precisamos de credenciais diferentes pra produção?",
            "auth_api_access",
            "P2",
        ),
        # One endpoint failing for some calls in production: production errors, P2.
        (
            "Intermittent 504 Gateway Timeout on POST /quotes/{id}/execute in production, "
            "maybe 3% of calls.",
            "api_errors",
            "P2",
        ),
        # A security message with nothing exposed.
        (
            "Someone is sending forged webhook posts to our endpoint from IPs that aren't "
            "yours. Our signature check rejects them, so nothing got through.",
            "security",
            "P2",
        ),
        # Money that came back is a how-to question.
        (
            "If a payout fails after we executed the quote, where does the money go? Do we "
            "have to request a refund?",
            "transfers_payments",
            "P3",
        ),
        (
            "Would be really useful if payout webhooks included the bank reference.",
            "feature_request",
            "P4",
        ),
        ("¿Cómo simulo en sandbox una transferencia que falla?", "sandbox_testing", "P3"),
    ],
)
def test_no_inflation(text: str, category: str, expected: str) -> None:
    assert _priority(text, category) == expected


def test_an_incident_in_production_keeps_p1_without_a_cue() -> None:
    # The category model's "incident" about production is trusted: missing a P1 costs most.
    text = "Our production checkout broke twenty minutes ago and the errors point at Grid."
    assert _priority(text, "incident_outage") == "P1"
    assert _priority(text.replace("production ", ""), "incident_outage") == "P2"


def test_money_stuck_with_no_environment_named_is_p2() -> None:
    text = "The payout to our supplier hasn't arrived after 3 days, can you check?"
    assert _priority(text, "transfers_payments") == "P2"


def test_a_launch_at_stake_is_p2() -> None:
    text = "Tenemos el lanzamiento el viernes y el KYB sigue en PENDING_MANUAL_REVIEW."
    assert _priority(text, "onboarding_kyc") == "P2"


def test_reasons_name_the_rule_that_fired() -> None:
    text = "all our production requests are failing with 503 since 10:02 UTC"
    signals = extract_signals(text)
    decision = decide_priority(
        category="api_errors",
        default="P2",
        signals=signals,
        text=text,
        production_secret=False,
    )
    assert decision.priority == "P1"
    assert decision.reasons[0] == "default for api_errors: P2"
    assert "outage reported in production" in decision.reasons


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # A failed payout whose refund failed too: the money is in neither place.
        (
            "Transaction:019e0000-0000-7000-8000-000000000001 (prod) failed last week, then "
            "we got OUTGOING_PAYMENT.REFUND_FAILED. $5,200 is neither delivered nor back in "
            "the customer's internal account. What now?",
            "transfers_payments",
        ),
        (
            "production: 3,000 USDC withdrawal went missing, the wallet never got it and it "
            "is not back in our platform balance either",
            "transfers_payments",
        ),
        # Everything of one kind failing in production at once.
        (
            "Since 07:30 UTC every production webhook fails our signature check and our "
            "handler rejects it, so no payout gets marked as completed.",
            "webhooks",
        ),
        (
            "all our payouts in production are being rejected since this morning, every "
            "corridor, nothing changed on our side",
            "transfers_payments",
        ),
    ],
)
def test_new_production_emergency_wording_is_p1(text: str, category: str) -> None:
    assert _priority(text, category) == "P1"


@pytest.mark.parametrize(
    ("text", "category", "expected"),
    [
        # One webhook's signature check failing while integrating is not an incident.
        (
            "webhook signature verification always fails for us in node, what do we hash?",
            "webhooks",
            "P3",
        ),
        # The same failures in the sandbox stay sandbox questions.
        (
            "in sandbox all our payouts are being rejected with a simulated failure, how do "
            "we make them succeed again?",
            "sandbox_testing",
            "P3",
        ),
        # A refund question without missing money.
        (
            "when a payout fails, how long until the refund is back in the internal account?",
            "transfers_payments",
            "P3",
        ),
    ],
)
def test_new_cues_do_not_inflate(text: str, category: str, expected: str) -> None:
    assert _priority(text, category) == expected


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # Money stuck in production, told in Spanish and Portuguese with the id in between.
        (
            "Buenas, un cliente depositó 12,000 USDC en producción a su cuenta interna hace "
            "cinco horas. La red ya muestra 40 confirmaciones pero el saldo sigue igual.",
            "accounts_wallets",
        ),
        (
            "Pessoal, em produção um saque de 3.500 USDC (Transaction:019e1111-2222-7333-8444-"
            "555566667777) está em PENDING há 3 horas e a carteira de destino não recebeu nada.",
            "transfers_payments",
        ),
        (
            "O reembolso de um PIX que falhou em produção já leva quatro dias e o cliente "
            "não recebeu o dinheiro de volta.",
            "transfers_payments",
        ),
        # One flow answering 5xx for many minutes in production is an outage of that flow.
        (
            "production: GET /internal-accounts has been returning 503 for 40 minutes now, "
            "our app can't show any balances",
            "api_errors",
        ),
        (
            "En producción POST /quotes está devolviendo 502 desde hace media hora.",
            "api_errors",
        ),
        (
            "prod: the hosted KYC page errors for every new user and our entire onboarding "
            "flow is stopped",
            "onboarding_kyc",
        ),
        # A card closed after a theft report that still gets approved: money leaving now.
        (
            "production: we closed Card:019e0007-aaaa after the cardholder reported it "
            "stolen, and this morning the closed card is still authorizing online purchases",
            "cards",
        ),
    ],
)
def test_unseen_production_emergencies_are_p1(text: str, category: str) -> None:
    assert _priority(text, category) == "P1"


@pytest.mark.parametrize(
    ("text", "category", "expected"),
    [
        # The same wording in the sandbox stays a sandbox question.
        (
            "in sandbox, POST /quotes has been returning 500 for 10 minutes, is it flaky?",
            "sandbox_testing",
            "P3",
        ),
        (
            "la transferencia en sandbox sigue en PENDING desde hace 2 horas, ¿cómo la completo?",
            "sandbox_testing",
            "P3",
        ),
        # "blocked" about how a frozen card behaves, "keep" about the card: how-to questions.
        (
            "our fraud team froze a card, is everything blocked for the cardholder now?",
            "cards",
            "P3",
        ),
        (
            "we want to keep the card but stop spending on it; PATCH /cards/{id} returned 400 "
            "INVALID_INPUT",
            "cards",
            "P3",
        ),
        (
            "our cleanup job runs DELETE again and gets a 400, is that a problem?",
            "api_errors",
            "P3",
        ),
        # A past outage as the setting of a how-to question.
        (
            "During last night's outage our logs show Grid retrying the same event with "
            "growing gaps. How many attempts do you make in total?",
            "webhooks",
            "P3",
        ),
    ],
)
def test_look_alike_wording_is_not_inflated(text: str, category: str, expected: str) -> None:
    assert _priority(text, category) == expected


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # An API error said to keep happening, or since a given time.
        (
            "we keep hitting a 400 TRANSACTION_SIZE_LIMIT_EXCEEDED on large supplier invoices",
            "fees_limits",
        ),
        (
            "recibimos 429 DAILY_VOLUME_LIMIT_EXCEEDED en USD→MXN desde las 10am",
            "fees_limits",
        ),
        # Something that stopped working in production.
        (
            "since this morning GET /config in production no longer lists BRL for us",
            "accounts_wallets",
        ),
    ],
)
def test_recurring_or_regressed_errors_are_p2(text: str, category: str) -> None:
    assert _priority(text, category) == "P2"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # Activity nobody on the developer's side made is a security P1 whatever the
        # category model said.
        (
            "Two beneficiaries appeared on one of our business customers overnight that nobody "
            "on our team added, and a payout already went to one of them.",
            "accounts_wallets",
        ),
        (
            "Vemos três saques em produção que a gente não fez, para uma carteira desconhecida.",
            "transfers_payments",
        ),
        ("hay pagos que no reconocemos saliendo de la cuenta de la plataforma", "other"),
    ],
)
def test_unrecognised_activity_is_p1_in_any_category(text: str, category: str) -> None:
    assert _priority(text, category) == "P1"


@pytest.mark.parametrize(
    ("text", "category", "expected"),
    [
        # Not having done something yet is not activity someone else did.
        (
            "we didn't create the external account yet, which fields does a CLABE need?",
            "accounts_wallets",
            "P3",
        ),
        # Asking for production access names production without an incident in it.
        (
            "we asked for production access two weeks ago and the dashboard still has no "
            "production token option, where is our go-live request?",
            "incident_outage",
            "P2",
        ),
    ],
)
def test_no_p1_without_an_emergency(text: str, category: str, expected: str) -> None:
    assert _priority(text, category) == expected
