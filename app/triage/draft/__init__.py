"""The reply: who drafts it, from what, and when a person must answer instead.

- `protocol`: the `Drafter` protocol and its `DraftRequest`
- `offline`: the offline drafter (`blocks`, `compose`, `confidence`, `question`,
  `relevance`, `phrases` behind it)
- `llm_drafter`: the LLM drafter; `context` renders its prompt's parts
- `citations`: quotes checked against the passages they cite
- `handoff`: the hand-off policy (abstention reasons)
- `claims`, `api_names`: checks run on an LLM draft (unsupported sentences, API names
  the specs do not have)
"""
