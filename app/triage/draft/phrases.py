"""The fixed sentences of a reply, in the languages support answers in."""

from __future__ import annotations

from functools import cache

_PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "intro": "Thanks for reaching out! Here is what our documentation says:",
        "code": "Example from the docs:",
        "sources": "Sources:",
        "closing": "If this doesn't solve it, reply here and we'll dig in.",
        "closing_error": (
            "If this doesn't solve it, reply with the request id and the full error response "
            "and we'll dig in."
        ),
        "holding": "Thanks for reaching out. A member of our support team will follow up shortly.",
        "holding_no_docs": (
            "Thanks for the question. I couldn't find a reliable answer to it in our "
            "documentation, so I've passed it to our support team, who will reply here."
        ),
        "holding_account": (
            "Thanks for flagging this. It needs someone to look at your account, which our docs "
            "can't do, so I've passed it to our support team, who will reply here."
        ),
        "holding_incident": (
            "Thanks for reporting this. I've flagged it to our support team as a possible "
            "incident; they will reply here as soon as they have checked."
        ),
        "holding_feature": (
            "Thanks for the suggestion! I've recorded it for our support team, who will reply "
            "here if they need more detail."
        ),
        "holding_security": (
            "Thanks for reaching out. Security questions are answered by our support team in "
            "person, so I've passed this to them; they will reply here."
        ),
        "secret_intro": (
            "It looks like your message contained a credential. We removed it from our records, "
            "but please treat it as exposed and rotate it now."
        ),
    },
    "es": {
        "intro": "¡Gracias por escribirnos! Esto es lo que dice nuestra documentación:",
        "code": "Ejemplo de la documentación:",
        "sources": "Fuentes:",
        "closing": "Si esto no lo resuelve, responde aquí y lo revisamos.",
        "closing_error": (
            "Si esto no lo resuelve, responde con el request id y la respuesta de error completa "
            "y lo revisamos."
        ),
        "holding": (
            "Gracias por escribirnos. Alguien de nuestro equipo de soporte te responderá pronto."
        ),
        "holding_no_docs": (
            "Gracias por la pregunta. No encontré una respuesta confiable en nuestra "
            "documentación, así que la pasé a nuestro equipo de soporte, que te responderá aquí."
        ),
        "holding_account": (
            "Gracias por avisarnos. Esto requiere revisar tu cuenta, algo que la documentación no "
            "puede hacer, así que lo pasé a nuestro equipo de soporte, que te responderá aquí."
        ),
        "holding_incident": (
            "Gracias por reportarlo. Lo marqué para nuestro equipo de soporte como posible "
            "incidente; te responderán aquí en cuanto lo revisen."
        ),
        "holding_feature": (
            "¡Gracias por la sugerencia! La registré para nuestro equipo de soporte, que te "
            "responderá aquí si necesita más detalles."
        ),
        "holding_security": (
            "Gracias por escribirnos. Las preguntas de seguridad las responde en persona "
            "nuestro equipo de soporte, así que se la pasé; te responderán aquí."
        ),
        "secret_intro": (
            "Parece que tu mensaje incluía una credencial. La eliminamos de nuestros registros, "
            "pero considérala expuesta y rótala ahora."
        ),
    },
    "pt": {
        "intro": "Obrigado pelo contato! Veja o que diz nossa documentação:",
        "code": "Exemplo da documentação:",
        "sources": "Fontes:",
        "closing": "Se isso não resolver, responda aqui e vamos investigar.",
        "closing_error": (
            "Se isso não resolver, responda com o request id e a resposta de erro completa e "
            "vamos investigar."
        ),
        "holding": "Obrigado pelo contato. Alguém da nossa equipe de suporte responderá em breve.",
        "holding_no_docs": (
            "Obrigado pela pergunta. Não encontrei uma resposta confiável na nossa documentação, "
            "então passei para nossa equipe de suporte, que responderá aqui."
        ),
        "holding_account": (
            "Obrigado por avisar. Isso exige uma análise da sua conta, que a documentação não "
            "pode fazer, então passei para nossa equipe de suporte, que responderá aqui."
        ),
        "holding_incident": (
            "Obrigado por reportar. Sinalizei para nossa equipe de suporte como possível "
            "incidente; eles responderão aqui assim que verificarem."
        ),
        "holding_feature": (
            "Obrigado pela sugestão! Registrei para nossa equipe de suporte, que responderá aqui "
            "se precisar de mais detalhes."
        ),
        "holding_security": (
            "Obrigado pelo contato. Perguntas de segurança são respondidas pessoalmente pela "
            "nossa equipe de suporte, então passei para eles; responderão aqui."
        ),
        "secret_intro": (
            "Parece que sua mensagem continha uma credencial. Nós a removemos dos nossos "
            "registros, mas considere-a exposta e faça a rotação agora."
        ),
    },
}


def phrase(key: str, language: str) -> str:
    return _PHRASES.get(language, _PHRASES["en"])[key]


def holding_reply(reason: str | None, language: str) -> str:
    key = {
        "insufficient_documentation": "holding_no_docs",
        "account_specific": "holding_account",
        "commercial_terms": "holding_account",
        "feature_request": "holding_feature",
        "incident": "holding_incident",
        "security_exposure": "holding_security",
    }.get(reason or "", "holding")
    return phrase(key, language)


def all_phrases() -> list[str]:
    """Every fixed sentence in every language (evals skip them when reading a draft)."""
    return [text for table in _PHRASES.values() for text in table.values()]


@cache
def variants(*keys: str) -> frozenset[str]:
    """Every language's text for these phrase keys."""
    return frozenset(table[key] for table in _PHRASES.values() for key in keys)
