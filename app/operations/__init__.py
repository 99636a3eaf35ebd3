"""Support operations read from the store: metrics for reports, volume forecasts,
staffing (Erlang C), the weekly report, and the simulated demo history (``demo/``)."""
