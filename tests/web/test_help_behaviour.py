"""Help page: its languages and how it reports rate limits, bad input and hand-offs."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.web.conftest import LiveServer, open_context
from tests.web.stub_api import Scripted, StubApi


def test_spanish_page_reports_errors_and_a_hand_off(browser: Any) -> None:
    stub = StubApi([])
    stub.ask_script.extend(
        [
            Scripted(
                422,
                {
                    "detail": "question: String should have at most 20000 characters",
                    "errors": [{"loc": ["body", "question"], "message": "too long"}],
                },
            ),
            Scripted(
                429,
                {"detail": "Too many questions from this address; retry in 7 s."},
                {"Retry-After": "7"},
            ),
            Scripted(
                200,
                {
                    "answer": "Una persona revisará tu caso.",
                    "citations": [],
                    "confidence": 0.2,
                    "handed_off": True,
                    "ticket_id": "tkt_0042",
                },
            ),
        ]
    )
    context, errors = open_context(browser, locale="es-ES")
    try:
        page = context.new_page()
        with LiveServer(stub.app()) as server:
            page.goto(server.url + "/help")
            expect(page.get_by_role("heading", level=1)).to_have_text("¿En qué podemos ayudarte?")
            assert page.evaluate("document.documentElement.lang") == "es"
            question = page.get_by_label("Tu pregunta")
            ask = page.get_by_role("button", name="Preguntar")

            ask.click()  # empty: refused in the page, nothing sent
            expect(page.locator("#ask-error")).to_have_text("Escribe una pregunta primero.")
            assert stub.asks == []

            question.fill("¿Cómo autentico mis llamadas?")
            ask.click()
            expect(page.locator("#ask-error")).to_have_text(
                "No pudimos aceptar esta pregunta: "
                "question: String should have at most 20000 characters"
            )
            ask.click()
            expect(page.locator("#ask-error")).to_have_text(
                "Estás preguntando demasiado rápido. Vuelve a intentarlo en 7 segundos."
            )
            ask.click()
            expect(page.locator("#handoff")).to_contain_text("Una persona de nuestro equipo")
            expect(page.locator("#ticket-ref")).to_have_text("tkt_0042")
            expect(page.locator("#ask-error")).to_be_hidden()
            expect(page.locator("#sources-block")).to_be_hidden()
        # The page adds its per-browser asker id (deflection, docs/metrics.md): the same
        # random id with every question from this browser.
        first = stub.asks[0]
        assert first == {"question": "¿Cómo autentico mis llamadas?", "asker": first["asker"]}
        assert re.fullmatch(r"[0-9a-f]{32}", first["asker"])
        assert {ask["asker"] for ask in stub.asks} == {first["asker"]}
        errors.assert_clean()
    finally:
        context.close()


def test_portuguese_and_english_strings_follow_the_browser(browser: Any) -> None:
    stub = StubApi([])
    for locale, heading, button in [
        ("pt-BR", "Como podemos ajudar?", "Perguntar"),
        ("en-GB", "How can we help?", "Ask"),
        ("de-DE", "How can we help?", "Ask"),  # no German strings: English
    ]:
        context, errors = open_context(browser, locale=locale)
        try:
            page = context.new_page()
            with LiveServer(stub.app()) as server:
                page.goto(server.url + "/help")
                expect(page.get_by_role("heading", level=1)).to_have_text(heading)
                expect(page.get_by_role("button", name=button, exact=True)).to_be_visible()
            errors.assert_clean()
        finally:
            context.close()


def test_answers_render_a_safe_markdown_subset(browser: Any) -> None:
    answer = (
        "Use **Basic auth** [1].\n\n"
        '- one `client_id`\n- two <img src=x onerror="window.pwned=1">\n\n'
        "```bash\ncurl -u id:secret https://api.example.com/x\n```\n"
        "See https://docs.example.com/auth and javascript:window.pwned=2 [7]"
    )
    stub = StubApi([])
    stub.ask_script.append(
        Scripted(
            200,
            {
                "answer": answer,
                "citations": [
                    {
                        "chunk_id": "c",
                        "doc_id": "docs/guides/api-reference/authentication",
                        "url": "https://docs.example.com/auth#basic-auth",
                        "quote": "**Basic** auth",
                    }
                ],
                "confidence": 0.9,
                "handed_off": False,
            },
        )
    )
    context, errors = open_context(browser)
    try:
        page = context.new_page()
        with LiveServer(stub.app()) as server:
            page.goto(server.url + "/help")
            page.get_by_label("Your question").fill("auth?")
            page.get_by_role("button", name="Ask").click()
            rendered = page.locator("#answer")
            expect(rendered.locator("strong")).to_have_text("Basic auth")
            expect(rendered.locator("ul > li")).to_have_count(2)
            expect(rendered.locator("li code")).to_have_text("client_id")
            expect(rendered.locator("ul > li").nth(1)).to_have_text(
                'two <img src=x onerror="window.pwned=1">'
            )
            expect(rendered.locator("pre code")).to_have_text(
                "curl -u id:secret https://api.example.com/x"
            )
            # [1] points at the first source; [7] has no source and stays text.
            expect(rendered.locator("a.cite")).to_have_attribute("href", "#source-1")
            hrefs = rendered.locator("a").evaluate_all("(as) => as.map((a) => a.href)")
            assert hrefs[1:] == ["https://docs.example.com/auth"]
            expect(page.locator("#sources li")).to_have_text(
                "Authentication › Basic auth“Basic auth”"
            )
            assert page.evaluate("window.pwned") is None
        errors.assert_clean()
    finally:
        context.close()
