"""What the LLM transport needs to reach a model, as plain values.

Filled from Settings by the composition root (app/services/pipelines.py); kept apart from
`client` so building one does not import the model SDKs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

__all__ = ["LLMConfig"]


@dataclass(frozen=True)
class LLMConfig:
    """One model endpoint and the limits of every request sent to it."""

    model: str
    base_url: str | None
    api_key: SecretStr | None
    max_tokens: int
    timeout_seconds: float
    max_retries: int
    block_remote_models: bool
    # Where tiktoken's BPE files are, for offline token counting (None: tiktoken's default).
    token_cache_dir: Path | None

    @property
    def enabled(self) -> bool:
        return self.api_key is not None or self.base_url is not None
