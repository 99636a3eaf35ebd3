"""Reading labelled CSV files, with errors that say exactly what is wrong and where."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


class DatasetError(ValueError):
    """The labelled CSV cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class LabelledTexts:
    texts: list[str]
    labels: list[str]


def read_labelled_csv(path: Path, *, text_col: str, label_col: str) -> LabelledTexts:
    """Read TEXT_COL and LABEL_COL from a CSV with a header row.

    Every row needs a non-blank text and label: silently dropping rows would make
    the reported `n` and the metrics disagree with the file.
    """
    if not path.exists():
        raise DatasetError(f"{path}: no such file")
    if not path.is_file():
        raise DatasetError(f"{path}: not a file")
    try:
        # utf-8-sig so a spreadsheet's byte-order mark does not end up in the first column name.
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames
            if not header:
                raise DatasetError(f"{path}: the file is empty (no header row)")
            missing = [c for c in (text_col, label_col) if c not in header]
            if missing:
                noun = "column" if len(missing) == 1 else "columns"
                raise DatasetError(
                    f"{path}: no {noun} {', '.join(repr(c) for c in missing)} "
                    f"(the header has: {', '.join(header)})"
                )
            texts: list[str] = []
            labels: list[str] = []
            for row in reader:
                line = reader.line_num
                text = (row.get(text_col) or "").strip()
                label = (row.get(label_col) or "").strip()
                if not text:
                    raise DatasetError(f"{path}, line {line}: empty {text_col!r}")
                if not label:
                    raise DatasetError(f"{path}, line {line}: empty {label_col!r}")
                texts.append(text)
                labels.append(label)
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except csv.Error as exc:
        raise DatasetError(f"{path}: malformed CSV: {exc}") from exc
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if not texts:
        raise DatasetError(f"{path}: a header but no data rows")
    return LabelledTexts(texts=texts, labels=labels)
