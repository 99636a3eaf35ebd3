"""A real SMTP server on loopback (aiosmtpd) that keeps what it accepts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from tests.conftest import free_port


@dataclass
class Inbox:
    host: str
    port: int
    messages: list[tuple[list[str], Message]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"

    def settings(self) -> dict[str, Any]:
        """The service's settings that send to this server."""
        return {"smtp_host": self.host, "smtp_port": self.port, "smtp_tls": "none"}


@contextmanager
def local_smtp(handler: Inbox | None = None) -> Iterator[Inbox]:
    """Serve ``handler`` (an Inbox by default) on a free loopback port."""
    box = handler or Inbox("127.0.0.1", 0)
    box.port = free_port()
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
