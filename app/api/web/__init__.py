"""Browser pages: the agent console (``/console``) and self-service help (``/help``)."""

from app.api.web.routes import router

__all__ = ["router"]
