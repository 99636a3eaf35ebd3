"""Metric families for the evaluation runner, one module each.

`retrieval` (hit/recall@k, MRR, nDCG), `classification` (scikit-learn based),
`abstention` (needs-human vs answerability) and `answers` (ragas metrics plus
citation and redaction checks).  Nothing is re-exported here so that importing one
family does not pull in the heavy dependencies of the others.
"""
