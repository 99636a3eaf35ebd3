"""The fixed sentences of a reply, in the languages support answers in."""

from __future__ import annotations

_PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "intro": "Thanks for reaching out! Here is what our documentation says:",
        "code": "Example from the docs:",
        "sources": "Sources:",
        "closing": (
            "If this doesn't solve it, reply with the request id and the full error response "
            "and we'll dig in."
        ),
        "holding": "Thanks for reaching out. A member of our support team will follow up shortly.",
        "holding_no_docs": (
            "Thanks for the question. Our documentation doesn't cover this clearly, so a member "
            "of our support team will look into it and follow up shortly."
        ),
        "holding_account": (
            "Thanks for flagging this. It needs someone to look at your account, so our support "
            "team has picked it up and will follow up shortly."
        ),
        "holding_incident": (
            "Thanks for reporting this. We've escalated it to our on-call team and will update "
            "you as soon as we know more."
        ),
        "holding_feature": (
            "Thanks for the suggestion! We've passed it to our product team, and someone will "
            "follow up if we need more detail."
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
        "closing": (
            "Si esto no lo resuelve, responde con el request id y la respuesta de error completa "
            "y lo revisamos."
        ),
        "holding": (
            "Gracias por escribirnos. Alguien de nuestro equipo de soporte te responderá pronto."
        ),
        "holding_no_docs": (
            "Gracias por la pregunta. Nuestra documentación no lo cubre con claridad, así que "
            "alguien de nuestro equipo de soporte lo revisará y te responderá pronto."
        ),
        "holding_account": (
            "Gracias por avisarnos. Esto requiere revisar tu cuenta, así que nuestro equipo de "
            "soporte ya lo tomó y te responderá pronto."
        ),
        "holding_incident": (
            "Gracias por reportarlo. Lo escalamos a nuestro equipo de guardia y te avisaremos en "
            "cuanto sepamos más."
        ),
        "holding_feature": (
            "¡Gracias por la sugerencia! La compartimos con nuestro equipo de producto y te "
            "contactaremos si necesitamos más detalles."
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
        "closing": (
            "Se isso não resolver, responda com o request id e a resposta de erro completa e "
            "vamos investigar."
        ),
        "holding": "Obrigado pelo contato. Alguém da nossa equipe de suporte responderá em breve.",
        "holding_no_docs": (
            "Obrigado pela pergunta. Nossa documentação não cobre isso com clareza, então alguém "
            "da nossa equipe de suporte vai analisar e responder em breve."
        ),
        "holding_account": (
            "Obrigado por avisar. Isso exige uma análise da sua conta, então nossa equipe de "
            "suporte já assumiu e responderá em breve."
        ),
        "holding_incident": (
            "Obrigado por reportar. Escalamos para nossa equipe de plantão e avisaremos assim que "
            "soubermos mais."
        ),
        "holding_feature": (
            "Obrigado pela sugestão! Compartilhamos com nossa equipe de produto e entraremos em "
            "contato se precisarmos de mais detalhes."
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
    }.get(reason or "", "holding")
    return phrase(key, language)
