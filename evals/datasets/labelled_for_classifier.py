"""Write the built-in taxonomy's labelled messages from the dev sets people have read.

    python -m evals.datasets.labelled_for_classifier      # rewrites the JSONL beside taxonomy.yaml

The offline category model trains on the taxonomy's written examples plus these messages
(`labelled_messages_file` in taxonomy.yaml).  Only sets whose rows have been read and
tuned on are used, never a held-out set still waiting to be measured, and never a message
of the CI eval gate's set (`grid_dev_small.jsonl`, a subset of `grid_dev.jsonl`), so no
figure that gates a release is measured on training data.  When a held-out set has been
measured and read, add it to READ_SETS and rerun.

Messages are stored as the classifier reads them: secrets redacted first (no pasted
credential is ever written to the repository), then pasted code, JSON and URLs removed.
"""

from __future__ import annotations

import json
from pathlib import Path

from app.triage.classify.taxonomy import load_taxonomy
from app.triage.pipeline import prose_for_classification
from app.triage.screen.secrets import redact_secrets
from evals.datasets.loader import load_jsonl

DATASETS = Path(__file__).parent
TARGET = Path(__file__).parents[2] / "app" / "triage" / "classify" / "labelled_messages.jsonl"
READ_SETS = (
    "grid_dev",
    "grid_dev_b",
    "grid_triage_tune",
    "grid_holdout",
    "grid_holdout_c",
    "grid_holdout_d",
    "grid_holdout_e",
    "grid_holdout_f",
    "grid_holdout_g",
    "grid_holdout_h",
    "grid_holdout_i",
    "grid_holdout_j",
    "grid_holdout_k",
    "grid_holdout_l",
    "grid_holdout_m",
    "grid_holdout_n",
    "grid_holdout_o",
    "grid_holdout_p",
    "grid_holdout_q",
)
GATE_SET = "grid_dev_small"


def labelled_rows() -> list[dict[str, str]]:
    categories = set(load_taxonomy().categories)
    gated = {i.message.strip() for i in load_jsonl(DATASETS / f"{GATE_SET}.jsonl")}
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for name in READ_SETS:
        for item in load_jsonl(DATASETS / f"{name}.jsonl"):
            if item.message.strip() in gated or item.category not in categories:
                continue
            text = prose_for_classification(redact_secrets(item.message).text)
            if text in seen:
                continue
            seen.add(text)
            rows.append({"text": text, "category": str(item.category), "source": item.id})
    return rows


def main() -> None:
    rows = labelled_rows()
    TARGET.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    print(f"wrote {len(rows)} labelled messages to {TARGET}")


if __name__ == "__main__":
    main()
