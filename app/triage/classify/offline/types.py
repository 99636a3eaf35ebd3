"""The classifier's public value types: options, predictions, progress, errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Mode = Literal["frozen", "finetune"]
Features = Literal["embeddings", "mpnet"]


class ClassifierError(RuntimeError):
    """Training input is unusable, or a model file is missing, corrupt or incompatible."""


class Prediction(BaseModel):
    """One message's decision.

    `label` is None when the message is out of scope (the OOS class won, or the best
    in-scope probability fell below the threshold chosen on held-out data); then
    `confidence` is the probability that no in-scope label applies.
    """

    label: str | None
    confidence: float
    scores: dict[str, float] = Field(default_factory=dict)


class TrainOptions(BaseModel):
    """How to train.  The defaults are the measured best of bench/classifier.py."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Mode = Field(
        default="frozen",
        description=(
            "frozen: sentence vectors (see `features`) + TF-IDF n-grams into a linear model "
            "(seconds). "
            "finetune: additionally fine-tunes `encoders` copies of the local MiniLM with a "
            "softmax head and ensembles them with the linear model (minutes per encoder; "
            "for thousands of labelled rows)."
        ),
    )
    features: Features = Field(
        default="embeddings",
        description=(
            "Sentence vectors of the linear model. embeddings: the caller's (MiniLM or "
            "OpenAI, as configured). mpnet: the packaged all-mpnet-base-v2, whatever the "
            "caller's: more accurate (README, Intent classifier), 3.5 times slower to "
            "embed, about 300 MB more memory loaded; the file then needs those packages to load. "
            "Left unset it follows the mode: finetune takes mpnet, since it is chosen for "
            "accuracy; frozen takes embeddings, since the service trains it from the "
            "taxonomy at start-up."
        ),
    )
    oos_label: str | None = Field(
        default="oos", description="Training label meaning 'out of scope'; predicted as None."
    )
    min_confidence: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Reject below this calibrated probability; None chooses it on held-out rows.",
    )
    max_in_scope_loss: float = Field(
        default=0.01,
        ge=0.0,
        le=1.0,
        description="With OOS rows held out: the threshold rejects as many of them as it can "
        "while costing at most this much held-out in-scope accuracy (0.01 = one point).",
    )
    min_accepted_accuracy: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Without OOS rows: lowest threshold whose accepted held-out rows are this "
        "accurate (0.5 = reject where the model is more likely wrong than right).",
    )
    holdout_fraction: float = Field(
        default=0.1,
        gt=0.0,
        lt=0.5,
        description="finetune mode: share of rows kept back to calibrate and set the threshold.",
    )
    cv_folds: int = Field(
        default=5, ge=2, le=20, description="frozen mode: folds for held-out calibration scores."
    )
    svm_c: float = Field(default=1.0, gt=0.0, description="Linear SVM regularisation.")
    embedding_weight: float = Field(
        default=2.0, gt=0.0, description="Scale of the embedding block against the TF-IDF blocks."
    )
    encoders: int = Field(
        default=2,
        ge=1,
        le=8,
        description="finetune mode: fine-tuned encoders in the ensemble, one seed each; "
        "training time grows with their number.",
    )
    epochs: int = Field(default=3, ge=1, le=20)
    learning_rate: float = Field(default=1e-4, gt=0.0)
    head_learning_rate: float = Field(default=3e-3, gt=0.0)
    batch_size: int = Field(default=32, ge=4, le=512)
    max_seq_length: int = Field(default=64, ge=8, le=256)
    label_smoothing: float = Field(default=0.0, ge=0.0, lt=1.0)
    threads: int = Field(
        default=2,
        ge=1,
        description="torch CPU threads: fine-tuning, the fine-tuned encoders and mpnet vectors.",
    )
    seed: int = 0
    top_scores: int = Field(default=3, ge=1, description="How many labels `scores` lists.")

    @model_validator(mode="before")
    @classmethod
    def _features_follow_mode(cls, data: Any) -> Any:
        # Only an unset value follows the mode; an explicit choice always stands.
        if isinstance(data, dict) and data.get("features") is None:
            mode = data.get("mode", cls.model_fields["mode"].default)
            return {**data, "features": "mpnet" if mode == "finetune" else "embeddings"}
        return data


@dataclass(frozen=True)
class TrainProgress:
    """A training stage and how far it got (`total` is None when unknown)."""

    stage: str
    done: int
    total: int | None


ProgressCallback = Callable[[TrainProgress], None]
