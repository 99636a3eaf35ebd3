"""One-file persistence for a trained classifier (joblib), written atomically.

joblib is scikit-learn's own persistence format and stores the numpy arrays
(fine-tuned weights included) without copies.  Like any pickle it must only be
loaded from a file this deployment wrote itself.  The payload records the
library versions it was written with; a different scikit-learn is refused
because its estimators are not guaranteed to unpickle correctly across versions.
"""

from __future__ import annotations

import os
import pickle
import zlib
from pathlib import Path
from typing import Any

from app.triage.classify.offline.types import ClassifierError

FORMAT = "triage-intent-classifier"
FORMAT_VERSION = 5
# Version 3 held at most one fine-tuned encoder, under "encoder"; version 4 had no
# `features` option (its linear model always used the caller's embeddings).  The reader
# still accepts both, so older models need no retraining.
READABLE_VERSIONS = (3, 4, 5)


def _library_versions() -> dict[str, str]:
    import numpy
    import sklearn

    return {"scikit-learn": sklearn.__version__, "numpy": numpy.__version__}


def write_payload(path: Path, payload: dict[str, Any]) -> None:
    """Write next to the target, fsync, then rename: readers see the old or the new file."""
    import joblib

    document = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "libraries": _library_versions(),
        **payload,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            joblib.dump(document, fh, protocol=pickle.HIGHEST_PROTOCOL)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_payload(path: Path) -> dict[str, Any]:
    import joblib

    if not path.exists():
        raise ClassifierError(
            f"no classifier at {path}: train one with `triage classifier train CSV`"
        )
    if not path.is_file():
        raise ClassifierError(f"{path} is not a file")
    try:
        document = joblib.load(path)
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        AttributeError,
        ImportError,
        zlib.error,
        OSError,
    ) as exc:
        raise ClassifierError(
            f"{path} is not a readable classifier file ({type(exc).__name__}: {exc}); retrain it"
        ) from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ClassifierError(f"{path} is not a triage intent classifier file")
    if document.get("version") not in READABLE_VERSIONS:
        raise ClassifierError(
            f"{path} uses classifier format {document.get('version')}, this version reads "
            f"{', '.join(map(str, READABLE_VERSIONS))}: retrain it"
        )
    written = document.get("libraries", {}).get("scikit-learn")
    running = _library_versions()["scikit-learn"]
    if written != running:
        raise ClassifierError(
            f"{path} was written with scikit-learn {written}, this install has {running}: "
            "retrain it"
        )
    return document
