"""Draft confidence as the probability that the draft answers the question.

The drafter measures a few things about its own answer (how much of the question the
chosen section covers, whether it names the identifiers the developer pasted, how far
ahead of the next section it is, how close the retriever found it); a logistic model
fitted on graded drafts (`bench/fit_answer_model.py`, labels from the graded dev set)
turns them into a calibrated probability.  The fitted coefficients are data
(`answer_model.json`), so refitting on agents' review outcomes changes no code.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.triage.draft.blocks import is_field_list

if TYPE_CHECKING:
    from app.triage.draft.candidates import Section
    from app.triage.draft.compose import Chosen
    from app.triage.draft.question import Question
    from app.triage.draft.relevance import Weights

_MODEL_FILE = Path(__file__).with_name("answer_model.json")
# Fitted without the meaning features, for a knowledge base whose embeddings are not the
# local model the drafter measures meaning with (the features would read 0 there).
_WORDS_MODEL_FILE = Path(__file__).with_name("answer_model_words.json")
SHAPES = ("how_to", "error", "value", "yes_no", "general")


@dataclass
class AnswerFeatures:
    shape: str = "general"
    # "section" (scored by the fitted model), "parameters" (a list endpoint's query
    # parameters) or "status" (an endpoint's documented meaning of a pasted status): the
    # last two are scored by the graded rate of such answers, not by the model.
    kind: str = "section"
    top_block: float = 0.0  # coverage of the question by the best block of the section
    section_coverage: float = 0.0  # by everything the reply quotes, headings included
    heading: float = 0.0  # by the section's title and heading alone
    identifiers: float = 1.0  # share of pasted identifiers the reply names
    margin: float = 0.0  # best section's score minus the next one's
    dense: float = 0.0  # the chosen section's cosine similarity to the question
    rank: float = 0.0  # the chosen section's retrieval rank (0 = first)
    shape_fit: float = 0.0  # steps or code for a how-to, the code's row for an error
    question_terms: float = 0.0  # how many content terms the question has (log)
    field_dump: float = 0.0  # share of the quoted words that come from schema field lists
    sources: float = 0.0  # how many doc sections the reply quotes
    prose_words: float = 0.0  # how much the reply says outside code (log): a bare heading
    # or an endpoint line alone answers nothing however well it matches
    # Closeness in meaning (semantic.py), 0 when not measured: words alone under-rate a
    # short exact answer and over-rate a passage that repeats the question's words.
    meaning_top: float = 0.0  # the closest quoted prose block's cosine to the question
    meaning_gap: float = 0.0  # that minus the closest block anywhere retrieved (<= 0)
    unmatched: float = 0.0  # question terms no retrieved block mentions (log)
    unmatched_yes_no: float = 0.0  # the same for "does Grid support X?" questions, else 0

    def fill(
        self,
        *,
        question: Question,
        weights: Weights,
        best: Section,
        runner_up: Section | None,
        chosen: list[Chosen],
        covered: frozenset[str],
        closest_anywhere: float = 0.0,
    ) -> None:
        text = " ".join(c.rendered() for c in chosen)
        # Word-based scores, as the model was fitted on (meaning only steers selection).
        prose = [c.candidate.lexical for c in chosen if c.kind != "code"]
        self.top_block = max(prose or [c.candidate.lexical for c in chosen] or [0.0])
        self.section_coverage = sum(weights.idf[t] for t in covered) / (weights.total or 1.0)
        self.heading = weights.coverage(best.heading_terms)
        if question.identifiers:
            named = sum(1 for i in question.identifiers if i in text)
            self.identifiers = named / len(question.identifiers)
        self.margin = best.lexical - (runner_up.lexical if runner_up else 0.0)
        self.dense = best.hit.dense_score or 0.0
        self.rank = float(best.rank)
        kinds = {c.kind for c in chosen}
        if question.shape == "how_to":
            self.shape_fit = float("list" in kinds or "code" in kinds)
        elif question.shape == "error":
            self.shape_fit = float(bool(question.identifiers) and self.identifiers > 0)
        else:
            self.shape_fit = 1.0
        self.question_terms = math.log1p(len(weights.idf))
        words = sum(c.words for c in chosen) or 1
        self.field_dump = sum(c.words for c in chosen if is_field_list(c.candidate.block)) / words
        self.sources = float(len({c.candidate.source for c in chosen}))
        self.prose_words = math.log1p(sum(c.words for c in chosen if c.kind != "code"))
        quoted = [c.candidate.meaning for c in chosen if c.kind != "code"]
        self.meaning_top = max(quoted or [c.candidate.meaning for c in chosen] or [0.0])
        self.meaning_gap = min(0.0, self.meaning_top - closest_anywhere)
        self.unmatched = math.log1p(len(weights.unmatched))
        self.unmatched_yes_no = self.unmatched if question.shape == "yes_no" else 0.0

    def vector(self) -> list[float]:
        values = [
            self.top_block,
            self.section_coverage,
            self.heading,
            self.identifiers,
            self.margin,
            self.dense,
            self.rank,
            self.shape_fit,
            self.question_terms,
            self.field_dump,
            self.sources,
            self.prose_words,
            self.meaning_top,
            self.meaning_gap,
            self.unmatched,
            self.unmatched_yes_no,
        ]
        return values + [float(self.shape == s) for s in SHAPES]

    def as_dict(self) -> dict[str, float | str]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


FEATURE_NAMES = (
    "top_block",
    "section_coverage",
    "heading",
    "identifiers",
    "margin",
    "dense",
    "rank",
    "shape_fit",
    "question_terms",
    "field_dump",
    "sources",
    "prose_words",
    "meaning_top",
    "meaning_gap",
    "unmatched",
    "unmatched_yes_no",
    *(f"shape_{s}" for s in SHAPES),
)


@dataclass(frozen=True)
class AnswerModel:
    coefficients: tuple[float, ...]
    intercept: float
    fitted_on: str = ""
    # P(answers) for a list endpoint's query parameters (lookup.py): the graded share of
    # such drafts that answered, Laplace-smoothed; None where none were graded.
    parameter_answers: float | None = None
    # The same for a pasted endpoint's documented meaning of a pasted status (status.py).
    status_answers: float | None = None
    # The same for a webhook's event quoted for "is there a webhook when …?" (events.py).
    event_answers: float | None = None

    @classmethod
    def default(cls, *, meaning: bool = True) -> AnswerModel:
        return cls.load(_MODEL_FILE if meaning else _WORDS_MODEL_FILE)

    @classmethod
    def load(cls, path: Path) -> AnswerModel:
        data = json.loads(path.read_text("utf-8"))
        names = tuple(data["features"])
        if names != FEATURE_NAMES:
            raise ValueError(f"{path}: features {names} do not match {FEATURE_NAMES}")
        return cls(
            tuple(float(c) for c in data["coefficients"]),
            float(data["intercept"]),
            str(data.get("fitted_on", "")),
            _graded_rate(data.get("parameter_answers")),
            _graded_rate(data.get("status_answers")),
            _graded_rate(data.get("event_answers")),
        )

    def graded_rate(self, kind: str) -> float | None:
        """P(answers) of a draft picked by a rule the fitted features do not describe."""
        rates = {
            "parameters": self.parameter_answers,
            "status": self.status_answers,
            "event": self.event_answers,
        }
        return rates.get(kind)

    def probability(self, features: AnswerFeatures) -> float:
        z = self.intercept + sum(
            c * x for c, x in zip(self.coefficients, features.vector(), strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))


def _graded_rate(graded: dict[str, int] | None) -> float | None:
    """The graded share that answered, Laplace-smoothed; None where none were graded."""
    if not graded:
        return None
    return (int(graded["answers"]) + 1) / (int(graded["graded"]) + 2)
