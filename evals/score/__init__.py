"""Score: collected items → the nested metrics object, one section per metric family.

`scoring.score` composes the sections; the families are `retrieval` (hit/recall@k, MRR,
nDCG), `classification` (scikit-learn based), `abstention` (needs-human vs
answerability), `answers` (ragas metrics plus citation validity) and `usefulness`
(whether drafts answer, read against reference answers).  `judge` builds the LLM judge
for ragas' judged metrics.  Nothing is re-exported here so that importing one family
does not pull in the heavy dependencies of the others.
"""
