"""The local MiniLM: both backends agree, single texts are cached, weights are checked."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest

from ingest.embeddings import (
    EmbeddingModelError,
    LocalMiniLMEmbeddings,
    minilm_package_dir,
    verify_minilm_weights,
)

TEXTS = [
    "How do I rotate my Grid API client secret?",
    "Webhook signature verification fails with X-Grid-Signature on the raw body",
    "¿Cómo envío un pago de USD a MXN con una cotización?",
]


def test_onnx_and_torch_backends_give_the_same_unit_vectors(models_dir: Path) -> None:
    onnx = LocalMiniLMEmbeddings(cache_dir=models_dir, threads=2, recent_cache_size=0)
    torch = LocalMiniLMEmbeddings(
        cache_dir=models_dir, backend="torch", threads=2, recent_cache_size=0
    )
    a = np.asarray(onnx.embed_documents(TEXTS))
    b = np.asarray(torch.embed_documents(TEXTS))
    assert a.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_a_repeated_single_text_is_served_from_the_cache(models_dir: Path) -> None:
    model = LocalMiniLMEmbeddings(cache_dir=models_dir, threads=2)
    first = model.embed_query(TEXTS[0])
    assert model.texts_embedded == 1
    # The classifier embeds the message as a one-row document batch; retrieval as a query.
    again = model.embed_documents([TEXTS[0]])[0]
    assert again == first
    assert model.texts_embedded == 1
    # Callers get copies: changing one must not change what the next caller receives.
    again[0] = 42.0
    assert model.embed_query(TEXTS[0]) == first


def test_the_cache_matches_a_batch_and_evicts_the_oldest(models_dir: Path) -> None:
    model = LocalMiniLMEmbeddings(cache_dir=models_dir, threads=2, recent_cache_size=2)
    batch = model.embed_documents(TEXTS)
    assert model.texts_embedded == 3  # batches bypass the cache
    singles = [model.embed_query(t) for t in TEXTS]
    np.testing.assert_allclose(np.asarray(singles), np.asarray(batch), atol=1e-5)
    assert model.texts_embedded == 6
    model.embed_query(TEXTS[2])  # still cached
    assert model.texts_embedded == 6
    model.embed_query(TEXTS[0])  # evicted when the third text came in
    assert model.texts_embedded == 7


def test_tampered_weights_are_refused(tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(minilm_package_dir(), copy)
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(EmbeddingModelError, match="sha256"):
        verify_minilm_weights(copy)
    model = LocalMiniLMEmbeddings(cache_dir=tmp_path / "cache", model_dir=copy)
    with pytest.raises(EmbeddingModelError, match="reinstall"):
        model.embed_query("anything")
    assert not list((tmp_path / "cache").glob("*.onnx"))


def test_missing_weights_are_named(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingModelError, match="not found"):
        verify_minilm_weights(tmp_path)


def test_int8_backend_stays_close_to_the_float_model_and_checks_its_file(
    models_dir: Path, tmp_path: Path
) -> None:
    float_model = LocalMiniLMEmbeddings(cache_dir=models_dir, threads=2, recent_cache_size=0)
    a = np.asarray(float_model.embed_documents(TEXTS))
    cache = tmp_path / "models"
    int8 = LocalMiniLMEmbeddings(
        cache_dir=cache, backend="onnx-int8", threads=2, recent_cache_size=0
    )
    b = np.asarray(int8.embed_documents(TEXTS))
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert ((a * b).sum(axis=1) > 0.95).all()  # per-channel weights; dev-set quality: bench
    assert not np.allclose(a, b, atol=1e-5)  # really the quantised graph
    quantised = int8._int8_path()
    # The speed comes from the fused int8 attention kernel: a model or exporter change that
    # stops the optimiser from fusing attention would silently fall back to the slow graph.
    ops = {node.op_type for node in onnx.load(str(quantised)).graph.node}
    assert "QAttention" in ops
    sidecar = quantised.with_name(quantised.name + ".sha256")
    assert set(cache.iterdir()) == {quantised, sidecar}  # no scratch files left beside it

    with quantised.open("r+b") as fh:
        fh.seek(quantised.stat().st_size // 2)
        fh.write(b"\x00" * 64)
    tampered = LocalMiniLMEmbeddings(cache_dir=cache, backend="onnx-int8", threads=2)
    with pytest.raises(EmbeddingModelError, match="sha256"):
        tampered.embed_query("x")
