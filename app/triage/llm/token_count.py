"""Token counting for prompt budgets and usage fallbacks, strictly offline.

tiktoken downloads a missing BPE file on first use; library code must never do that, so
an encoding is only loaded when its file is already in tiktoken's cache directory.  The
directory is passed in (from settings); settings also export it as `TIKTOKEN_CACHE_DIR`
at start-up, which is where tiktoken itself then loads the file from.  With no cached encoding the
counter falls back to a chars/4 estimate, which is what budgets need: roughly right.
"""

from __future__ import annotations

import hashlib
import tempfile
from functools import cache
from pathlib import Path

import tiktoken
from tiktoken.model import encoding_name_for_model

__all__ = ["TokenCounter"]

_BLOBS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}
_FALLBACKS = ("o200k_base", "cl100k_base")


# tiktoken's own default when no cache directory is configured.
_DEFAULT_CACHE_DIR = Path(tempfile.gettempdir()) / "data-gym-cache"


def _is_cached(encoding_name: str, cache_dir: Path) -> bool:
    blob = _BLOBS.get(encoding_name)
    if blob is None:
        return False
    return (cache_dir / hashlib.sha1(blob.encode()).hexdigest()).is_file()


@cache
def _load(name: str) -> tiktoken.Encoding:
    return tiktoken.get_encoding(name)


def _encoding_for(model: str, cache_dir: Path) -> tiktoken.Encoding | None:
    # Not cached as a whole: a cache directory filled later must still be picked up.
    try:
        preferred: tuple[str, ...] = (encoding_name_for_model(model),)
    except KeyError:  # a self-hosted model tiktoken has never heard of
        preferred = ()
    for name in (*preferred, *_FALLBACKS):
        if _is_cached(name, cache_dir):
            return _load(name)
    return None


class TokenCounter:
    """Counts with the model's encoding when available offline, else estimates.

    `cache_dir` is tiktoken's cache directory (settings' `tiktoken_cache_dir`); None
    means tiktoken's default, the one it uses when no directory is configured.
    """

    def __init__(self, model: str, cache_dir: Path | None) -> None:
        self.model = model
        self._encoding = _encoding_for(model, cache_dir or _DEFAULT_CACHE_DIR)

    @property
    def exact(self) -> bool:
        return self._encoding is not None

    def count(self, text: str) -> int:
        if self._encoding is None:
            return (len(text) + 3) // 4
        return len(self._encoding.encode(text, disallowed_special=()))

    def truncate(self, text: str, max_tokens: int) -> str:
        if max_tokens <= 0:
            return ""
        if self._encoding is None:
            return text[: max_tokens * 4]
        tokens = self._encoding.encode(text, disallowed_special=())
        if len(tokens) <= max_tokens:
            return text
        return self._encoding.decode(tokens[:max_tokens])
