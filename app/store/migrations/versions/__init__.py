"""Migration scripts, applied in revision order by ``app.store.db.migrate``."""
