"""Route modules of the HTTP API, one router each (included by app.api.app)."""
