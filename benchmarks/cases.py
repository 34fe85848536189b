"""Classification job speed with routing and case linking, on one core, into SQLite.

Stores N messages built from the hand-written corpus texts: residents drawn from a pool of
N/4 addresses over 90 days, a third of messages replying to an earlier message of the same
resident, one in ten carrying a CMP- reference. Then it times model prediction alone on the same
texts, and the whole classification job (predict, route, flag, link to cases, store), and
prints both rates so the cost of routing and cases is the difference.

    python benchmarks/cases.py --n 5000
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(n: int, rng: random.Random) -> list[bytes]:
    from triage.classify.data import load_split

    texts = [e.input for e in load_split(ROOT / "training_data", "train")]
    residents = [f"resident{i}@example.com" for i in range(max(1, n // 4))]
    start = datetime(2026, 8, 1, 9, 0, tzinfo=UTC)
    last_by: dict[str, int] = {}
    out = []
    for i in range(n):
        t = texts[i % len(texts)]
        who = rng.choice(residents)
        msg = EmailMessage()
        msg["From"] = who
        msg["To"] = "customer.services@landlord.example"
        ref = f" CMP-{10000 + rng.randrange(n // 10 or 1)}" if i % 10 == 0 else ""
        msg["Subject"] = (t.subject or "(no subject)") + ref
        msg["Date"] = format_datetime(start + timedelta(minutes=i * 90 * 24 * 60 // n))
        msg["Message-ID"] = f"<bench-{i}@example.com>"
        if who in last_by and rng.random() < 0.33:
            msg["In-Reply-To"] = f"<bench-{last_by[who]}@example.com>"
        last_by[who] = i
        msg.set_content(t.new or "(empty)")
        out.append(msg.as_bytes())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    from triage.classify.service import input_from_row, load_model
    from triage.ingest.email_parse import parse_email
    from triage.jobs import classify_store
    from triage.message import Source
    from triage.route.routing import load_table
    from triage.store.db import Store

    raw = build(args.n, random.Random(7))
    model, meta = load_model(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        store.add(parse_email(b, Source("file", path=f"{i}.eml")) for i, b in enumerate(raw))
        rows = store.unclassified(meta["sha256"], args.n)
        inputs = [input_from_row(r) for r in rows]
        model.predict(inputs[:200])  # warm-up

        t0 = time.perf_counter()
        for s in range(0, len(inputs), 500):
            model.predict(inputs[s : s + 500])
        predict_rate = len(inputs) / (time.perf_counter() - t0)

        links: dict[str, int] = {}
        t0 = time.perf_counter()
        classify_store(store, args.model, load_table(None), cases_out=links)
        job_s = time.perf_counter() - t0
        cases = store.count("messages")
        with store.engine.connect() as conn:
            from sqlalchemy import func, select

            from triage.store.schema import cases as cases_table

            n_cases = conn.scalar(select(func.count()).select_from(cases_table))
        store.close()

    print(f"messages: {cases} (from {args.n} built), one core, SQLite")
    print(f"model prediction alone: {predict_rate:,.0f} messages/s")
    print(
        f"classification job (predict + route + flag + link to cases + store): {args.n / job_s:,.0f} messages/s ({job_s:.1f} s)"
    )
    print(f"cases opened: {n_cases}; links: " + ", ".join(f"{k} {v}" for k, v in sorted(links.items())))


if __name__ == "__main__":
    main()
