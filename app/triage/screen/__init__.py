"""Reading the message: run on every inbound message before any LLM call, embedding,
log or DB write.

- `secrets`: redact pasted credentials (with `_secret_patterns`, `_prose_secrets`,
  `_shapes`, `_encoded`, `_secret_cues` and `normalise` behind it)
- `injection`: flag attempts to steer the assistant
- `passages`: withhold retrieved doc passages that are poisoned
- `signals`: what the message says (statuses, endpoints, environment, money stuck,
  outage), with its regex tables in `_signal_patterns`
- `sentiment`: frustration and sentiment cues
- `language`: which language the developer wrote in
"""
