"""Report speed and memory on one core: `triage report` over a store of N messages.

Fills a SQLite store with N synthetic messages, their classifications (kinds, themes, flags,
queues), and cases with case messages and stage 1 / stage 2 events, by bulk inserts (not via
the classifier). Then runs `triage report` over the year in a child process pinned to one core
and prints the wall time and the child's peak resident memory (ru_maxrss).

    python benchmarks/report.py --n 1000000 --db /tmp/report-bench.db [--annual]

An existing --db with the right row count is reused (--refill to rebuild it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from triage.labels import KINDS, THEMES
from triage.store.db import Store
from triage.store.schema import case_events, case_messages, cases, classifications, messages

START, END = date(2025, 4, 1), date(2026, 3, 31)
QUEUES = ("Repairs and Maintenance", "Neighbourhoods", "Tenancy Services", "Income", "Allocations", "Complaints team")
KIND_WEIGHTS = (0.22, 0.45, 0.03, 0.05, 0.25)
FLAG_RULES = (
    ("ghost_stage", "informal_stage_language", "5.2, 5.3", 0.02),
    ("ghost_stage", "dissatisfied_mp_enquiry", "1.3, 5.2", 0.005),
    ("vulnerability", "vulnerability", "5.10, 6.1", 0.08),
    ("hazard", "damp_mould", "Awaab's Law", 0.05),
    ("hazard", "emergency_hazard", "Awaab's Law", 0.01),
)
TEXT = (
    "I reported the leak in the bathroom ceiling three weeks ago and nobody has come. Please call Mrs Jones on "
    "07700 900123 at 12 Juniper Walk NB3 7QT about ref CMP-{n}. This is not good enough."
)
CHUNK = 20_000


def fill_store(url: str, n: int, seed: int = 7, start: date = START, end: date = END) -> dict[str, int]:
    """N messages spread over start..end with classifications, and cases with events for about
    half of the complaints. Damp and mould rises in the last month (a trend to find)."""
    rng = random.Random(seed)
    span = (end - start).days + 1
    last_month = date(end.year, end.month, 1)
    now = datetime.now(UTC)
    counts = {"messages": 0, "cases": 0, "events": 0}
    with Store(url) as store, store.engine.begin() as conn:
        case_pk = 0
        for base in range(0, n, CHUNK):
            msg_rows, cls_rows, case_rows, link_rows, event_rows = [], [], [], [], []
            for pk in range(base + 1, min(n, base + CHUNK) + 1):
                day = start + timedelta(days=rng.randrange(span))
                received = datetime(day.year, day.month, day.day, 9 + rng.randrange(8), rng.randrange(60), tzinfo=UTC)
                kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
                themes = sorted(set(rng.sample(THEMES[:8], rng.choice((1, 1, 2)))))
                if kind == "complaint" and day >= last_month and rng.random() < 0.15 and "damp_mould" not in themes:
                    themes.append("damp_mould")
                queue = rng.choice(QUEUES)
                flags = [
                    {"type": t, "rule": r, "code": c, "reason": "", "evidence": ["synthetic"]}
                    for t, r, c, p in FLAG_RULES
                    if rng.random() < p
                ]
                msg_rows.append(
                    {
                        "id": pk,
                        "sha256": f"{pk:064x}",
                        "message_id": None,
                        "references": [],
                        "channel": "email",
                        "source_type": "file",
                        "source": "bench",
                        "source_detail": {},
                        "received_at": received,
                        "ingested_at": now,
                        "sender_name": "",
                        "sender_addr": f"resident{pk % 50_000}@example.com",
                        "recipients": [],
                        "subject": "Leak",
                        "body_new": TEXT.format(n=pk),
                        "body_quoted": "",
                        "body_signature": "",
                        "body_format": "plain",
                        "automated": None,
                        "automated_reason": "",
                        "respondent_ref": "",
                        "defects": [],
                        "size": 200,
                        "raw": b"",
                    }
                )
                cls_rows.append(
                    {
                        "message_pk": pk,
                        "model": "bench",
                        "model_sha256": "0" * 64,
                        "kind": kind,
                        "kind_scores": {},
                        "dissatisfied": kind == "complaint",
                        "dissatisfied_score": 0.9 if kind == "complaint" else 0.1,
                        "themes": themes,
                        "theme_scores": {},
                        "status": "accepted",
                        "needs_review": False,
                        "review_reasons": [],
                        "evidence": [],
                        "created_at": now,
                        "queue": queue,
                        "on_complaints_register": kind == "complaint",
                        "route_rule": "",
                        "flags": flags,
                        "due_date": None,
                        "due_what": "",
                    }
                )
                if kind == "complaint" and rng.random() < 0.5:
                    case_pk += 1
                    case_rows.append(
                        {"id": case_pk, "resident": "", "title": "", "stage": "stage_1", "themes": themes, "updated_at": now}
                    )
                    link_rows.append(
                        {
                            "message_pk": pk,
                            "case_pk": case_pk,
                            "rule": "new",
                            "reason": "",
                            "linked_at": now,
                            "linked_by": "bench",
                        }
                    )
                    event_rows += _events(rng, case_pk, day, now)
            conn.execute(insert(messages), msg_rows)
            conn.execute(insert(classifications), cls_rows)
            if case_rows:
                conn.execute(insert(cases), case_rows)
                conn.execute(insert(case_messages), link_rows)
                conn.execute(insert(case_events), event_rows)
            counts["messages"] += len(msg_rows)
            counts["cases"] += len(case_rows)
            counts["events"] += len(event_rows)
    return counts


def _events(rng: random.Random, case_pk: int, received: date, now: datetime) -> list[dict[str, object]]:
    def event(name: str, stage: str, on: date, **more: object) -> dict[str, object]:
        return {"case_pk": case_pk, "event": name, "stage": stage, "on": on, "recorded_at": now, "recorded_by": "bench", **more}

    ack = received + timedelta(days=rng.choice((1, 2, 3, 7)))
    responded = ack + timedelta(days=rng.choice((7, 10, 12, 14, 18, 25)))
    out = [event("received", "stage_1", received), event("acknowledged", "stage_1", ack)]
    if rng.random() < 0.1:
        out.append(event("extension_agreed", "stage_1", ack + timedelta(days=10), extended_to=ack + timedelta(days=26)))
    out.append(event("responded", "stage_1", responded, outcome=rng.choice(("upheld", "partly_upheld", "not_upheld", None))))
    if rng.random() < 0.15:
        escalated = responded + timedelta(days=rng.randrange(1, 20))
        ack2 = escalated + timedelta(days=3)
        out += [
            event("escalated", "stage_2", escalated),
            event("acknowledged", "stage_2", ack2),
            event(
                "responded",
                "stage_2",
                ack2 + timedelta(days=rng.choice((20, 26, 30, 40))),
                outcome=rng.choice(("upheld", "not_upheld")),
            ),
        ]
    return out


CHILD = """
import json, sys, time
from datetime import date
from pathlib import Path
from triage.report import make_report, write_report
t0 = time.perf_counter()
report = make_report(date.fromisoformat(sys.argv[1]), date.fromisoformat(sys.argv[2]), by="month", store=sys.argv[3], homes=40000)
t1 = time.perf_counter()
write_report(report, Path(sys.argv[4]))
t2 = time.perf_counter()
if sys.argv[5] == "annual":
    from triage.report.annual import write_annual
    write_annual(report, Path(sys.argv[4]))
t3 = time.perf_counter()
print(json.dumps({"compute_s": round(t1 - t0, 2), "write_s": round(t2 - t1, 2), "annual_s": round(t3 - t2, 3),
                  "figures": {f.id: f.value for f in report.figures},
                  "marked": [r[0] + " " + r[1] for r in report.table("theme_trends").rows if r[1]]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/triage-report-bench.db"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/triage-report-bench"))
    parser.add_argument("--refill", action="store_true")
    parser.add_argument("--annual", action="store_true", help="also write the Code 8.1 annual report (--annual) and time it")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # the child inherits one core
    if args.refill and args.db.exists():
        args.db.unlink()
    existing = 0
    if args.db.exists():
        with Store(args.db) as store:
            existing = store.count()
    if existing != args.n:
        if args.db.exists():
            args.db.unlink()
        t0 = time.perf_counter()
        counts = fill_store(str(args.db), args.n)
        print(
            f"filled {counts['messages']:,} messages, {counts['cases']:,} cases, {counts['events']:,} events in {time.perf_counter() - t0:.1f} s"
        )
    else:
        print(f"reusing {args.db} ({existing:,} messages)")
    t0 = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            START.isoformat(),
            END.isoformat(),
            str(args.db),
            str(args.out),
            "annual" if args.annual else "plain",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    child = json.loads(done.stdout)
    print(
        f"report over {args.n:,} messages: wall {wall:.1f} s (compute {child['compute_s']} s, write {child['write_s']} s), peak RSS {peak_mb:.0f} MB, one core"
    )
    if args.annual:
        base = child["compute_s"] + child["write_s"]
        print(f"--annual adds {child['annual_s']} s: {100 * child['annual_s'] / base:.1f}% of compute + write")
    print(f"figures: {json.dumps(child['figures'])}")
    print(f"themes marked: {child['marked']}")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1, 5, 15 min)")


if __name__ == "__main__":
    main()
