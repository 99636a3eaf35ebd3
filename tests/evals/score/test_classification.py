"""Classification metrics and the needs-human / answerability (abstention) metrics."""

from __future__ import annotations

import pytest

from evals.score.abstention import abstention_metrics
from evals.score.classification import classification_report, p1_recall


def test_report_on_a_hand_computed_case() -> None:
    y_true = ["billing", "billing", "auth", "webhooks"]
    y_pred = ["billing", "auth", "auth", "auth"]

    report = classification_report(y_true, y_pred)

    assert report.accuracy == 0.5
    assert report.labels == ["auth", "billing", "webhooks"]
    auth, billing, webhooks = (report.per_class[label] for label in report.labels)
    assert auth.precision == pytest.approx(1 / 3)
    assert (auth.recall, auth.support) == (1.0, 1)
    assert auth.f1 == pytest.approx(0.5)
    assert (billing.precision, billing.recall) == (1.0, 0.5)
    assert billing.f1 == pytest.approx(2 / 3)
    assert (webhooks.precision, webhooks.recall, webhooks.f1) == (0.0, 0.0, 0.0)
    assert report.macro_f1 == pytest.approx((0.5 + 2 / 3 + 0.0) / 3)
    # rows: true label, columns: predicted label
    assert report.confusion == [[1, 0, 0], [1, 1, 0], [1, 0, 0]]
    assert report.n == 4
    per_class = report.as_dict()["per_class"]
    assert isinstance(per_class, dict)
    assert per_class["billing"] == {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2}


def test_explicit_labels_include_classes_never_seen() -> None:
    report = classification_report(["a", "a"], ["a", "a"], labels=["a", "b"])

    assert report.labels == ["a", "b"]
    assert report.per_class["b"].support == 0
    assert report.macro_f1 == 0.5  # the unseen class scores 0 and drags the macro mean
    assert report.confusion == [[2, 0], [0, 0]]


def test_p1_recall() -> None:
    assert p1_recall(["P1", "P1", "P2", "P3"], ["P1", "P2", "P1", "P3"]) == 0.5
    assert p1_recall(["P2", "P3"], ["P1", "P1"]) is None


def test_length_mismatch_and_empty_input() -> None:
    with pytest.raises(ValueError, match="2 true labels but 1 predictions"):
        classification_report(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="no labelled items"):
        p1_recall([], [])


def test_abstention_counts_and_scores() -> None:
    #            unanswerable+escalated, answerable+escalated, unanswerable+answered, tn, unknown
    needs_human = [True, True, False, False, True]
    answerable = [False, True, False, True, None]

    report = abstention_metrics(needs_human, answerable)

    assert (report.tp, report.fp, report.fn, report.tn) == (1, 1, 1, 1)
    assert (report.n, report.n_skipped) == (4, 1)
    assert report.precision == 0.5
    assert report.recall == 0.5
    assert report.f1 == 0.5


def test_abstention_undefined_parts_are_none() -> None:
    never_escalated = abstention_metrics([False, False], [False, True])
    assert never_escalated.precision is None
    assert never_escalated.recall == 0.0
    assert never_escalated.f1 is None

    all_answerable = abstention_metrics([True, False], [True, True])
    assert all_answerable.recall is None
    assert all_answerable.precision == 0.0

    perfect = abstention_metrics([True, False], [False, True])
    assert (perfect.precision, perfect.recall, perfect.f1) == (1.0, 1.0, 1.0)

    assert abstention_metrics([True], [None]).as_dict()["n"] == 0
