"""How consistently the annotation guide can be applied: a second annotator's blind labels for a
sample of the test split (training_data/agreement/second_annotator.jsonl) against the labels the
test files carry. Prints kind macro-F1, dissatisfied F1, theme micro-F1 and per-theme counts (the
ceiling a model can be expected to reach on these items), and the shipped model's figures on the
same items against the same labels.

    python benchmarks/agreement.py [--model models/default]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

from sklearn.metrics import f1_score

from triage.classify.data import load_split
from triage.classify.service import load_model, predict
from triage.errors import TriageError
from triage.labels import THEMES

ROOT = Path(__file__).resolve().parents[1]
Labels = dict[str, Any]


def agreement(pairs: list[tuple[Labels, Labels]]) -> tuple[float, float, float, Counter[tuple[str, str]]]:
    """Kind macro-F1, dissatisfied F1, theme micro-F1 and per-theme counts of the second labels against the first."""
    kind = f1_score([g["kind"] for g, _ in pairs], [s["kind"] for _, s in pairs], average="macro")
    dis = f1_score([g["dissatisfied"] for g, _ in pairs], [s["dissatisfied"] for _, s in pairs])
    counts: Counter[tuple[str, str]] = Counter()
    for g, s in pairs:
        a, b = set(g["themes"]), set(s["themes"])
        for t in a & b:
            counts[t, "both"] += 1
        for t in a - b:
            counts[t, "first only"] += 1
        for t in b - a:
            counts[t, "second only"] += 1
    tp = sum(v for (_, k), v in counts.items() if k == "both")
    off = sum(v for (_, k), v in counts.items() if k != "both")
    return float(kind), float(dis), 2 * tp / (2 * tp + off), counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(ROOT / "models" / "default"), help="model folder (default models/default)")
    args = parser.parse_args()
    try:
        model, _ = load_model(args.model)
    except TriageError as exc:
        parser.exit(2, f"agreement.py: {exc}\n")
    test = {e.input.id: e for e in load_split(ROOT / "training_data", "test")}
    second = [
        json.loads(line) for line in (ROOT / "training_data" / "agreement" / "second_annotator.jsonl").open() if line.strip()
    ]
    first = [test[r["id"]] for r in second]
    gold = [{"kind": e.kind, "dissatisfied": e.dissatisfied, "themes": e.themes} for e in first]
    kind, dis, theme, counts = agreement(list(zip(gold, [r["labels"] for r in second], strict=True)))
    print(f"{len(second)} test items labelled twice (the second annotator blind to the first)")
    print(f"second annotator: kind macro-F1 {kind:.3f}   dissatisfied F1 {dis:.3f}   theme micro-F1 {theme:.3f}")
    answers = [
        {"kind": p.kind, "dissatisfied": p.dissatisfied, "themes": p.themes} for p in predict(model, [e.input for e in first])
    ]
    kind, dis, theme, _ = agreement(list(zip(gold, answers, strict=True)))
    print(f"the model:        kind macro-F1 {kind:.3f}   dissatisfied F1 {dis:.3f}   theme micro-F1 {theme:.3f}")
    print(f"{'theme':24} {'both':>5} {'first only':>11} {'second only':>12}")
    for t in THEMES:
        print(f"{t:24} {counts[t, 'both']:5} {counts[t, 'first only']:11} {counts[t, 'second only']:12}")


if __name__ == "__main__":
    main()
