"""The LLM path of triage: any OpenAI-compatible chat endpoint, reached only through here.

- `client`: `build_chat_model(settings)`, the loopback-only switch for tests
- `drafter`: `LLMDrafter`, grounded replies with validated citations, or a handoff
- `classifier`: `LLMClassifier`, taxonomy-constrained classification
- `structured`: strict structured-output calls and failure reason codes
- `context`, `tokens`: prompt rendering of untrusted parts, offline token counting

Submodules are imported explicitly so importing one does not load the others' dependencies.
"""
