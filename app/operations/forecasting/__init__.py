"""Daily ticket-volume forecasts (ETS) with their rolling-origin backtest, and the
staffing they imply (Erlang C)."""
