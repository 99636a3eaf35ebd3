"""Draft confidence and the automatic reading, checked against blind grades.

A graded file (`evals/datasets/*_graded.jsonl`) holds, per row, the grade a reader gave
one exact draft (`draft_sha256`).  When this run drafts the same text for the row again,
that grade applies: the run's confidence is then read against whether the draft really
answers (a reliability diagram on human-style grades, not on the automatic reading), and
the automatic "answers" is checked for agreement with the reader.  Rows whose draft
changed are left out, since their grade was for other text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.triage.classify.offline.metrics import reliability
from evals.collect.item_result import ItemResult
from ingest.types import sha256_hex

GRADES = ("answers", "partial", "no", "wrong", "handoff")


@dataclass(frozen=True)
class Grade:
    grade: str
    draft_sha256: str  # the first 16 hex digits of the graded draft's sha256

    def draft_digest_matches(self, text: str) -> bool:
        return draft_digest(text) == self.draft_sha256


def draft_digest(text: str) -> str:
    return sha256_hex(text)[:16]


def load_grades(path: Path) -> dict[str, Grade]:
    """Row id -> its grade; a malformed file raises ValueError naming the line."""
    grades: dict[str, Grade] = {}
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            grade, digest, row_id = str(row["grade"]), str(row["draft_sha256"]), str(row["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a graded row ({exc})") from None
        if grade not in GRADES:
            raise ValueError(f"{path}:{number}: unknown grade {grade!r}")
        grades[row_id] = Grade(grade, digest)
    return grades


def graded_metrics(
    observations: Sequence[ItemResult],
    grades: Mapping[str, Grade],
    automatic: Mapping[str, Mapping[str, float]],
) -> dict[str, Any]:
    """Calibration of confidence and agreement of the automatic reading, on matched drafts."""
    matched = [
        o
        for o in observations
        if not o.needs_human
        and o.item.id in grades
        and grades[o.item.id].draft_digest_matches(o.draft_text)
    ]
    section: dict[str, Any] = {"matched": len(matched)}
    if not matched:
        return section
    answers = [grades[o.item.id].grade == "answers" for o in matched]
    section["answers_rate"] = sum(answers) / len(answers)
    section["calibration"] = reliability([o.confidence for o in matched], answers)
    read = [
        (bool(automatic[o.item.id]["answers"]), truth)
        for o, truth in zip(matched, answers, strict=True)
        if "answers" in automatic.get(o.item.id, {})
    ]
    if read:
        section["automatic_agreement"] = sum(a == t for a, t in read) / len(read)
    return section
