"""Triage of one support message, in the order the pipeline runs it.

- `screen/`: reading the message before anything else sees it — secrets redacted,
  prompt injection flagged, signals (HTTP statuses, endpoints, environment, money stuck,
  outage), sentiment and language.
- `classify/`: which category, team and priority — the category decision over the
  trainable offline model and the LLM classifier, the taxonomy, the priority rules.
- `draft/`: the reply — the drafter protocol, offline and LLM drafters, prompt context,
  citations, the hand-off policy and the checks run on an LLM draft.
- `llm/`: the transport only — chat client, structured output, token counting.
- `pipeline.py` runs the rooms in order; `results.py` holds the shapes it returns.
- Shared by the rooms: `prompts.py` (prompt templates and the fencing of untrusted text),
  `echoes.py` (a model reply that only echoes its schema or prompt, for both LLM
  classifier and drafter), `vocabulary.py`/`vocabulary.yaml` (the EN/ES/PT cue word
  lists every room reads).

Nothing here reads Settings or knows the knowledge base: app/services/pipelines.py
builds a pipeline from them and hands plain values in.
"""
