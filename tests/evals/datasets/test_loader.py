from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from evals.datasets.loader import (
    DatasetError,
    EvalItem,
    load_dataset,
    load_jsonl,
    load_labelled_csv,
    load_mtrag_un,
)


@pytest.fixture(scope="module")
def mtrag_path(shared_data: Path) -> Path:
    return shared_data / "eval" / "mtrag_un_reference_tasks.jsonl"


def _write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


# --- MTRAG-UN on the real file -----------------------------------------------------


def test_mtrag_loads_every_row_with_its_answerability(mtrag_path: Path) -> None:
    items = load_mtrag_un(mtrag_path)

    assert len(items) == 507
    labels = Counter(f for item in items for f in item.flags if f.startswith("answerability:"))
    assert labels == {
        "answerability:answerable": 285,
        "answerability:unanswerable": 97,
        "answerability:underspecified": 78,
        "answerability:partial": 47,
    }
    assert Counter(item.answerable for item in items) == {True: 285, False: 222}
    # PARTIAL counts as not answerable
    assert all(item.answerable is False for item in items if "answerability:partial" in item.flags)


def test_mtrag_keeps_history_contexts_and_reference(mtrag_path: Path) -> None:
    raw = [json.loads(line) for line in mtrag_path.read_text(encoding="utf-8").splitlines()]
    items = load_mtrag_un(mtrag_path)

    for row, item in zip(raw, items, strict=True):
        assert item.id == row["id"]
        assert item.message == row["question"]
        assert item.reference_answer == row["reference_answer"]
        assert item.reference_contexts == row["reference_contexts"]
        assert item.gold_doc_ids == row["reference_doc_ids"]
        assert [t.content for t in item.conversation_history] == [
            t["text"] for t in row["conversation_history"]
        ]
    roles = Counter(t.role for item in items for t in item.conversation_history)
    assert set(roles) == {"user", "assistant"}  # MTRAG's "agent" is normalised
    assert "collection:fiqa" in items[0].flags
    assert items[0].model_extra is not None
    assert items[0].model_extra["answerability"] == "ANSWERABLE"


def test_load_dataset_detects_mtrag(mtrag_path: Path) -> None:
    assert load_dataset(mtrag_path) == load_mtrag_un(mtrag_path)


def test_mtrag_rejects_unknown_answerability(tmp_path: Path) -> None:
    path = _write_jsonl(
        tmp_path / "m.jsonl",
        [
            {"id": "a", "question": "q", "answerability": ["ANSWERABLE"]},
            {"id": "b", "question": "q", "answerability": ["MAYBE"]},
        ],
    )
    with pytest.raises(DatasetError, match=r"m\.jsonl:2: answerability must be one of"):
        load_mtrag_un(path)


# --- our JSONL ---------------------------------------------------------------------


def test_jsonl_reads_all_fields_and_question_alias(tmp_path: Path) -> None:
    path = _write_jsonl(
        tmp_path / "ours.jsonl",
        [
            {
                "id": "t1",
                "message": "My webhook signature fails",
                "conversation_history": [{"role": "user", "content": "hi"}],
                "gold_doc_ids": ["grid/webhooks"],
                "category": "webhooks",
                "priority": "P2",
                "answerable": True,
                "flags": ["pii"],
                "language": "en",
                "channel": "email",
            },
            {"id": "t2", "question": "Alias works?", "reference_doc_ids": ["d"]},
        ],
    )
    first, second = load_jsonl(path)

    assert first.message == "My webhook signature fails"
    assert first.conversation_history[0].role == "user"
    assert first.gold_doc_ids == ["grid/webhooks"]
    assert (first.category, first.priority, first.answerable) == ("webhooks", "P2", True)
    assert (first.flags, first.language, first.channel) == (["pii"], "en", "email")
    assert second.message == "Alias works?"
    assert second.gold_doc_ids == ["d"]
    assert second.answerable is None
    assert second.reference_contexts == []


def test_shared_faq_set_loads_through_load_dataset(shared_data: Path) -> None:
    items = load_dataset(shared_data / "eval" / "domain_faq_qa.jsonl")

    assert len(items) == 7
    assert items[0].message == "What is Grid and who is it for?"
    assert items[0].gold_doc_ids == ["grid/platform-overview/introduction/faq"]
    assert items[0].model_extra is not None
    assert items[0].model_extra["corpus"] == "corpus_grid"


@pytest.mark.parametrize(
    ("line", "pattern"),
    [
        ("{not json", r"bad\.jsonl:2: invalid JSON"),
        ("[1, 2]", r"bad\.jsonl:2: expected a JSON object"),
        ('{"id": "x"}', r"bad\.jsonl:2: message: Field required"),
        ('{"id": "x", "message": "m", "flags": "pii"}', r"bad\.jsonl:2: flags"),
        (
            '{"id": "x", "message": "m", "conversation_history": [{"role": "robot", '
            '"content": "c"}]}',
            r"bad\.jsonl:2: conversation_history\.0\.role",
        ),
        (
            '{"id": "ok", "message": "again"}',
            r"bad\.jsonl:2: duplicate id 'ok' \(first on line 1\)",
        ),
    ],
)
def test_jsonl_errors_name_the_line(tmp_path: Path, line: str, pattern: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "ok", "message": "fine"}\n' + line + "\n", encoding="utf-8")

    with pytest.raises(DatasetError, match=pattern):
        load_jsonl(path)


def test_blank_lines_are_skipped_and_line_numbers_stay_physical(tmp_path: Path) -> None:
    path = tmp_path / "gaps.jsonl"
    path.write_text('{"id": "a", "message": "m"}\n\n{"id": "b"}\n', encoding="utf-8")

    with pytest.raises(DatasetError, match=r"gaps\.jsonl:3:"):
        load_jsonl(path)


# --- CSV ---------------------------------------------------------------------------


def test_csv_rows_become_labelled_items(tmp_path: Path) -> None:
    path = tmp_path / "intents.csv"
    path.write_text(
        'text,intent\nwhere is my card,card_arrival\n"multi\nline, quoted",top_up\n',
        encoding="utf-8",
    )
    items = load_labelled_csv(path, text_col="text", label_col="intent")

    assert items == [
        EvalItem(id="intents-1", message="where is my card", category="card_arrival"),
        EvalItem(id="intents-2", message="multi\nline, quoted", category="top_up"),
    ]
    assert load_dataset(path, label_col="intent") == items


def test_csv_on_real_banking77(shared_data: Path) -> None:
    items = load_dataset(shared_data / "intent" / "banking77" / "train.csv")

    assert len(items) > 10_000 - 10
    assert items[0].message == "I am still waiting on my card?"
    assert items[0].category == "card_arrival"


def test_csv_errors(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("text,label\nhello,greet\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"c\.csv:1: missing column\(s\) \['category'\]"):
        load_labelled_csv(path)

    path.write_text("text,category\nhello,greet\n  ,greet\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"c\.csv:3: empty 'text'"):
        load_labelled_csv(path)

    path.write_text("text,category\nhello,greet,extra\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"c\.csv:2: more cells than header columns"):
        load_labelled_csv(path)


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"unsupported dataset format '\.parquet'"):
        load_dataset(tmp_path / "x.parquet")
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset(tmp_path / "missing.jsonl")
