"""What staff corrections buy: does a model learn a landlord's own voice from ~40 reviews?

A landlord's register is written in its staff's shorthand, which our invented corpus never
shows. This takes a register in that voice (default training_data/landlord/calderbrook.jsonl, a
simulated landlord kept out of train, dev and test), uses the first N rows by id hash as staff
corrections (`train --with-reviews` records) and scores the rest, beside the test split as the
holdout that must not drop. Each row of the table is one trained model:

    python benchmarks/reviews.py                  # weights 1, 3, 5, 10 and no reviews at all
    python benchmarks/reviews.py --reviews 40 --weights 5
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from triage.classify.data import load_split, read_examples  # noqa: E402
from triage.classify.evaluate import label_metrics  # noqa: E402
from triage.classify.train import load_config  # noqa: E402


def scores(model, examples) -> dict[str, float]:
    predictions = model.predict([e.input for e in examples])
    m = label_metrics(
        examples, [p.kind for p in predictions], [p.dissatisfied for p in predictions], [p.themes for p in predictions]
    )
    return {
        "theme_micro_f1": m["theme_micro_f1"],
        "kind_macro_f1": m["kind_macro_f1"],
        "complaint_recall": m["kind"]["complaint"]["recall"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--register", type=Path, default=ROOT / "training_data" / "landlord" / "calderbrook.jsonl")
    parser.add_argument("--config", type=Path, default=ROOT / "pipelines" / "train.toml")
    parser.add_argument("--reviews", type=int, default=40, help="How many register rows staff corrected.")
    parser.add_argument("--weights", type=float, nargs="+", default=[1.0, 3.0, 5.0, 10.0])
    args = parser.parse_args()

    from triage.classify.train import fit_model

    config = load_config(args.config)
    root = config.path(config.data.root)
    train_set = load_split(root, "train")
    holdout = load_split(root, "test")
    register = sorted(read_examples(args.register), key=lambda e: hashlib.sha256(e.input.id.encode()).hexdigest())
    corrections, rest = register[: args.reviews], register[args.reviews :]
    later = args.register.with_name(args.register.stem + "_t.jsonl")  # rows written apart, never corrected
    if later.exists():
        rest += read_examples(later)
    print(
        f"{len(train_set)} training examples; {len(corrections)} corrections from {args.register.name}; "
        f"scored on its other {len(rest)} rows and on the test split ({len(holdout)})\n"
    )
    print(
        f"{'reviews':>7} {'weight':>6} {'register theme F1':>17} {'register complaint R':>20} {'test theme F1':>13} {'test kind F1':>12} {'fit s':>6}"
    )
    runs = [(0, 0.0)] + [(len(corrections), w) for w in args.weights]
    for n, weight in runs:
        reviewed = [replace(e, weight=weight) for e in corrections[:n]]
        started = time.perf_counter()
        model = fit_model(config, sorted(train_set + reviewed, key=lambda e: e.input.id))
        fit_s = time.perf_counter() - started
        reg, test = scores(model, rest), scores(model, holdout)
        print(
            f"{n:>7} {weight:>6.1f} {reg['theme_micro_f1']:>17.3f} {reg['complaint_recall']:>20.3f} "
            f"{test['theme_micro_f1']:>13.3f} {test['kind_macro_f1']:>12.3f} {fit_s:>6.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
