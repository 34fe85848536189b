"""Classifier speed, memory and size on one core: what `triage classify` does per message
(read a JSONL record, split the body, classify, write the JSON line), for email-length and for
tweet-length messages; single-message latency; model load time; peak resident memory; the size
of the model folder and of the encoder it reads.

Messages are the hand-written corpus (all splits): email-length ones are the email-channel
messages with at least 40 words of subject and new text, tweet-length ones the social, webform
and survey messages under 40 words. They are repeated to reach --n. Run it in its own process:
load time and memory are measured from a cold start. Times are wall-clock on one pinned core,
with this process's CPU time beside them (on a shared machine the CPU figures say more), and the
load average.

    python benchmarks/classify.py --n 3000
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EMAIL_WORDS = 40


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="messages for each batch figure")
    parser.add_argument("--single", type=int, default=600, help="messages for the latency figure")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    t0, cpu0 = time.perf_counter(), time.process_time()
    from triage.classify.service import load_model, prediction_json
    from triage.text.nlp import get_nlp

    model, meta = load_model(args.model)
    get_nlp()
    load_s, load_cpu = time.perf_counter() - t0, time.process_time() - cpu0

    from triage.classify.data import input_from_record

    records = []
    for split in ("train", "dev", "test"):
        for path in sorted((ROOT / "training_data" / split).glob("*.jsonl")):
            records += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def words(r: dict) -> int:
        return len(f"{r.get('subject') or ''} {r.get('body') or ''}".split())

    email = [r for r in records if r.get("channel") == "email" and words(r) >= EMAIL_WORDS]
    short = [r for r in records if r.get("channel") != "email" and words(r) < EMAIL_WORDS]

    def rate(sample: list[dict]) -> tuple[float, float, float, float]:
        batch = (sample * (args.n // max(1, len(sample)) + 1))[: args.n]
        model.predict([input_from_record(r) for r in batch[:100]])  # warm-up
        out = io.StringIO()
        routed = 0
        t, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(batch), 500):  # what `triage classify` does with a file, 500 lines at a time
            inputs = [input_from_record(r, str(i)) for i, r in enumerate(batch[start : start + 500])]
            for p in model.predict(inputs):
                out.write(json.dumps(prediction_json(p), ensure_ascii=False) + "\n")
                routed += p.decided_by == "encoder"
        seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
        return len(batch) / seconds, len(batch) / cpu, routed / len(batch), sorted(words(r) for r in sample)[len(sample) // 2]

    email_rate, email_cpu, email_routed, email_words = rate(email)
    load_email = os.getloadavg()[0]
    short_rate, short_cpu, short_routed, short_words = rate(short)
    load_short = os.getloadavg()[0]

    latencies, cpu_latencies = [], []
    mixed = [input_from_record(r) for r in (email + short)][: args.single]
    for item in mixed:
        t, cpu = time.perf_counter(), time.process_time()
        model.predict([item])
        latencies.append((time.perf_counter() - t) * 1000)
        cpu_latencies.append((time.process_time() - cpu) * 1000)
    latencies.sort()
    cpu_latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    encoder = meta.get("encoder")
    enc_folder = None
    if encoder:
        from triage.classify.artefact import find_encoder

        enc_folder = find_encoder(args.model, encoder)
    print(f"model {meta['name']} ({args.model}): folder {folder_mb(args.model):.1f} MB", end="")
    print(f" + encoder {enc_folder} {folder_mb(enc_folder):.1f} MB" if enc_folder else " (no encoder)")
    print(f"model load (import, checksums, unpickle, encoder, spaCy pipeline): {load_s:.2f} s wall, {load_cpu:.2f} s CPU")
    print(
        f"email-length ({len(email)} distinct, median {email_words} words): {email_rate:,.0f} messages/s wall, "
        f"{email_cpu:,.0f} per CPU-second, "
        f"{email_routed:.1%} decided by the encoder model (load average {load_email:.1f})"
    )
    print(
        f"tweet-length ({len(short)} distinct, median {short_words} words): {short_rate:,.0f} messages/s wall, "
        f"{short_cpu:,.0f} per CPU-second, "
        f"{short_routed:.1%} decided by the encoder model (load average {load_short:.1f})"
    )
    cpu_p50, cpu_p99 = cpu_latencies[len(cpu_latencies) // 2], cpu_latencies[max(0, int(len(cpu_latencies) * 0.99) - 1)]
    print(
        f"single-message latency, {len(latencies)} messages of both kinds: p50 {p50:.1f} ms, p99 {p99:.1f} ms wall "
        f"(CPU: p50 {cpu_p50:.1f} ms, p99 {cpu_p99:.1f} ms)"
    )
    print(f"peak resident memory of this process: {rss_mb:,.0f} MB")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
