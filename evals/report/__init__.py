"""Report: what a run leaves on disk for a reviewer.

`markdown.write_report` writes metrics.json, report.md and the PNG plots it embeds;
`item_problems` says what went wrong on each item (records.jsonl) and picks the worst
ones for the report's table.
"""
