"""Classifier speed and memory on one core: batch throughput, single-message latency, model
load time and the classifying process's peak resident memory.

Messages are the hand-written corpus (all splits, text already parsed into subject / new /
quoted), repeated to reach --n. Run it in its own process: load time and memory are measured
from a cold start.

    python benchmarks/classify.py --n 5000
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="messages for the batch figure")
    parser.add_argument("--single", type=int, default=1000, help="messages for the latency figure")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    t0 = time.perf_counter()
    from triage.classify.service import load_model
    from triage.text.nlp import get_nlp

    model, meta = load_model(args.model)
    get_nlp()
    load_s = time.perf_counter() - t0

    from triage.classify.data import load_split

    inputs = [e.input for split in ("train", "dev", "test") for e in load_split(ROOT / "training_data", split)]
    words = statistics.median(len((i.subject + " " + i.new).split()) for i in inputs)
    batch = (inputs * (args.n // len(inputs) + 1))[: args.n]
    model.predict(batch[:200])  # warm-up

    t0 = time.perf_counter()
    for start in range(0, len(batch), 500):
        model.predict(batch[start : start + 500])
    rate = len(batch) / (time.perf_counter() - t0)

    latencies = []
    for item in (inputs * 2)[: args.single]:
        t = time.perf_counter()
        model.predict([item])
        latencies.append((time.perf_counter() - t) * 1000)
    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"model {meta['name']} ({args.model / 'model.joblib'}, {(args.model / 'model.joblib').stat().st_size / 1e6:.1f} MB)")
    print(f"messages: {len(inputs)} distinct from the corpus, median {words:.0f} words of subject + new text")
    print(f"model load (import, checksum, unpickle, spaCy pipeline): {load_s:.2f} s")
    print(f"batch classification: {rate:,.0f} messages/s ({len(batch)} messages, batches of 500, one core)")
    print(f"single-message latency: p50 {p50:.1f} ms, p99 {p99:.1f} ms ({len(latencies)} messages)")
    print(f"peak resident memory of this process: {rss_mb:,.0f} MB")


if __name__ == "__main__":
    main()
