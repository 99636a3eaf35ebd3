"""Metrics read from the store: the metric views' fact tables kept equal to their views
(``refresh``), and the operations statistics ``GET /v1/stats`` answers (``stats``)."""
