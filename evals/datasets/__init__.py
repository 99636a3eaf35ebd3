"""Datasets: the committed eval sets (JSONL beside this file, described in README.md),
`loader` for ours, MTRAG-UN and labelled CSVs, and `review_export`, which turns agents'
review decisions into a dataset (`triage eval export-reviews`).
"""
