"""Collect: run each dataset item and record what it produced (`ItemResult`).

`pipeline_mode` sends our JSONL and labelled CSVs through the whole pipeline (plus one
k-deep retrieval for the ranked metrics); `mtrag` drafts MTRAG-UN tasks over their
reference passages.  `safety` checks each item's redaction as it is collected,
`corpus_subset` builds the small corpus CI ingests, `progress` draws the bar.
"""
