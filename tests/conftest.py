"""Suite-wide guards: no network beyond loopback, no downloads, real data paths."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.postgres import PostgresDatabases

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO_ROOT.parent / "shared" / "data").resolve()
GRID_ROOT = SHARED_DATA / "corpus_grid"
BTCPAY_ROOT = SHARED_DATA / "corpus_btcpay"

# Set before any test imports tiktoken/transformers so nothing tries a hub.
os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(SHARED_DATA / "tiktoken"))
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["RAGAS_DO_NOT_TRACK"] = "true"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
# The run's shared model folder (`make test` names one for its three pytest processes) is
# read before the TRIAGE_ variables are cleared below: read after, it was never seen, and
# every process exported the model and trained the classifier again.
_SHARED_MODELS_DIR = os.environ.get("TRIAGE_TEST_MODELS_DIR")
# Tests choose their own configuration explicitly; a developer's shell must not leak in.
for _name in list(os.environ):
    if _name.startswith("TRIAGE_") or _name in {"OPENAI_API_KEY", "OPENAI_BASE_URL"}:
        del os.environ[_name]
# The pydantic-ai style switch: no test may build a client for a real model provider.
os.environ["TRIAGE_BLOCK_REMOTE_MODELS"] = "true"


def _is_loopback(host: Any) -> bool:
    if not isinstance(host, str):
        return True  # AF_UNIX paths and the like never leave the machine
    if host in {"localhost", ""}:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a hostname other than localhost would need DNS, i.e. the network


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else address
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(host):
        raise RuntimeError(f"test tried to reach a non-loopback address: {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else address
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(host):
        raise RuntimeError(f"test tried to reach a non-loopback address: {address!r}")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data not found at {SHARED_DATA}; it must sit beside the repo")
    return SHARED_DATA


@pytest.fixture(scope="session")
def grid_root(shared_data: Path) -> Path:
    return GRID_ROOT


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ONNX export and one trained taxonomy model, shared by every test and subprocess.

    `make test` runs three pytest processes; it names one fresh folder for all of them
    (TRIAGE_TEST_MODELS_DIR), so the export and the training happen once per run instead
    of once per process (files are keyed by model and taxonomy content and
    written by rename, so readers never see half a file)."""
    shared = _SHARED_MODELS_DIR
    if shared:
        path = Path(shared)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("models")


def embedding_cache_of(models_dir: Path) -> Path:
    """The document-vector cache of a run (TRIAGE_EMBEDDING_CACHE_DIR): the tests that start
    apps and servers over the same sample pages, dozens of times a run at about 8 s a sync,
    embed its chunks once.  Not used where a test measures or interrupts embedding."""
    return models_dir / "embedding-cache"


@pytest.fixture(scope="session")
def minilm(models_dir: Path) -> Any:
    from ingest.embeddings import LocalMiniLMEmbeddings

    return LocalMiniLMEmbeddings(cache_dir=models_dir, threads=2)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


GRID_SAMPLE = [
    "docs/guides/api-reference/authentication.md",
    "docs/guides/api-reference/environments.md",
    "docs/guides/api-reference/sandbox-testing.md",
    "docs/guides/platform-overview/core-concepts/quote-system.md",
]


@pytest.fixture
def grid_sample(tmp_path: Path, grid_root: Path) -> Path:
    """A small, writable copy of real Grid pages (the shared data stays read-only)."""
    import shutil

    dest = tmp_path / "corpus"
    guides = sorted((grid_root / "docs" / "guides").rglob("*.md"))
    small = [p for p in guides if p.stat().st_size < 4000][:6]
    picked = [grid_root / p for p in GRID_SAMPLE] + small
    for src in dict.fromkeys(picked):
        target = dest / src.relative_to(grid_root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    return dest


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PostgresDatabases]:
    """Throwaway PostgreSQL databases for this test session (dropped at its end)."""
    databases = PostgresDatabases()
    try:
        yield databases
    finally:
        databases.drop_all()
