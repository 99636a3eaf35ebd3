"""Support operations: what a support lead reads and decides from the store.

- ``metrics/``: the metric views' fact tables kept current, and the statistics behind
  ``GET /v1/stats`` and the console's stats page.
- ``investigations/``: the named, read-only SQL templates under ``queries/`` (``triage sql``).
- ``gaps/``: the knowledge-gap report (what the docs did not answer, grouped by topic).
- ``autosend/``: calibration of draft confidence and the earned, per-category auto-send policy.
- ``forecasting/``: daily volume forecasts, their backtest, and staffing (Erlang C).
- ``report/``: the weekly operations report (figures, Markdown, charts).
- ``demo/``: the simulated demo history that fills a fresh install with months of tickets.
"""
