"""Offline evaluation, in four rooms a run passes through in order.

* `evals.collect` runs a dataset through the triage pipeline (or, for MTRAG-UN, the
  drafter over reference passages) and records what each item produced.
* `evals.score` turns those records into the nested metrics object, one metric family
  per module (retrieval, classification, abstention, answers, usefulness) plus the LLM
  judge.
* `evals.gate` compares the metrics with a committed baseline (`evals/baselines/`) under
  `evals/tolerances.yaml`, the one source of tolerances and directions.
* `evals.report` writes metrics.json, report.md, its plots and the per-item problems.

`evals.workflow` strings them together for `triage eval`; `evals.datasets` holds the
datasets, their loader and the export of review decisions into a dataset.
"""
