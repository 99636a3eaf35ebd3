"""The knowledge-gap report: questions the docs did not answer, grouped by topic, ranked,
with the nearest doc sections and whether retrieval missed an existing doc."""
