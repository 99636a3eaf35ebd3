"""The weekly operations report: figures read from the store, Markdown and PNG charts."""
