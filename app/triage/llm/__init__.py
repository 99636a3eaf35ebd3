"""The transport to a language model: any OpenAI-compatible chat endpoint, reached only
through here.  What is asked and what the answer means live with the job (the LLM
classifier in classify/, the LLM drafter in draft/).

- `config`: `LLMConfig`, the endpoint and request limits as plain values
- `client`: `build_chat_model(config)`, the loopback-only switch for tests
- `structured`: strict structured-output calls and failure reason codes
- `token_count`: offline token counting for prompt budgets and usage fallbacks

Submodules are imported explicitly so importing one does not load the others' dependencies.
"""
