"""Support operations: metrics read from the store's views, saved SQL investigations."""
