"""Review-app server time with 100,000 messages: the queue pages, the message page, confirming.

Fills a SQLite store with synthetic messages, classifications and a case for each complaint
(bulk inserts, a few seconds),
then times requests through Flask's in-process test client (server time: routing, queries,
templates; no network), p50 and p95 over --requests requests each. Targets: pages p95 <= 150 ms,
confirming <= 50 ms. The machine's load is printed beside the figures.

    python benchmarks/review.py --messages 100000 --requests 200
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import shutil
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from triage.labels import KINDS, THEMES
from triage.review import Settings, create_app
from triage.review.auth import add_user
from triage.store.db import Store
from triage.store.schema import case_messages, cases, classifications, messages

AREAS = ("Repairs and Maintenance", "Complaints", "Neighbourhoods", "Allocations", "Income")
BODY = (
    "Hello,\n\nI reported the leak under my kitchen sink three weeks ago and nobody has come. There is now a "
    "smell of damp in the cupboard and my daughter has asthma. Please can someone call me back.\n\nThanks\n"
)


def fill(store: Store, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    chunk = 10_000
    with store.transaction() as conn:
        for start in range(0, n, chunk):
            rows, preds = [], []
            for i in range(start, min(n, start + chunk)):
                received = now - timedelta(minutes=7 * i)
                rows.append(
                    {
                        "id": i + 1,
                        "sha256": hashlib.sha256(str(i).encode()).hexdigest(),
                        "message_id": f"<bench-{i}@example.com>",
                        "references": [],
                        "channel": "email",
                        "source_type": "file",
                        "source": f"bench/{i}.eml",
                        "source_detail": {},
                        "received_at": received,
                        "ingested_at": now,
                        "sender_name": "Resident",
                        "sender_addr": f"resident{i}@example.com",
                        "recipients": [],
                        "subject": f"Leak under the sink, report {i}",
                        "body_new": BODY,
                        "body_quoted": "> Thank you for your email." if i % 3 == 0 else "",
                        "body_signature": "",
                        "body_format": "plain",
                        "automated_reason": "",
                        "respondent_ref": "",
                        "defects": [],
                        "size": 600,
                        "raw": b"x",
                    }
                )
                kind = rng.choice(KINDS)
                top = rng.uniform(0.3, 0.99)
                scores = {k: (top if k == kind else (1 - top) / 4) for k in KINDS}
                themes = rng.sample(THEMES, rng.randint(0, 2))
                flags = (
                    [{"type": "hazard", "rule": "damp_mould", "code": "Awaab's Law", "reason": "damp", "evidence": ["damp"]}]
                    if i % 5 == 0
                    else []
                )
                preds.append(
                    {
                        "message_pk": i + 1,
                        "model": "default",
                        "model_sha256": "0" * 64,
                        "kind": kind,
                        "kind_scores": scores,
                        "kind_confidence": top,
                        "dissatisfied": kind == "complaint",
                        "dissatisfied_score": 0.8 if kind == "complaint" else 0.1,
                        "themes": themes,
                        "theme_scores": {t: (0.7 if t in themes else 0.05) for t in THEMES},
                        "status": "suggested",
                        "needs_review": top < 0.6,
                        "review_reasons": [],
                        "evidence": [{"rule": "hazard_damp_mould", "text": "smell of damp"}],
                        "created_at": now,
                        "queue": rng.choice(AREAS),
                        "on_complaints_register": kind == "complaint",
                        "route_rule": "",
                        "flags": flags,
                        "due_date": (date(2026, 11, 2) + timedelta(days=rng.randint(-10, 30))) if i % 2 else None,
                        "due_what": "acknowledge the complaint (Code 6.2)" if i % 2 else "",
                    }
                )
            conn.execute(insert(messages), rows)
            conn.execute(insert(classifications), preds)
            # every complaint opens a case whose next Code clock is sometimes earlier than the message's
            complaints = [p for p in preds if p["kind"] == "complaint"]
            case_rows = [
                {
                    "id": p["message_pk"],
                    "resident": f"resident{p['message_pk']}@example.com",
                    "title": "Leak under the sink",
                    "stage": "stage_1",
                    "themes": p["themes"],
                    "opened_at": now,
                    "last_contact_at": now,
                    "due_date": date(2026, 11, 2) + timedelta(days=rng.randint(-5, 20)),
                    "due_what": "respond to the stage 1 complaint (Code 6.3)",
                    "flags": [],
                    "updated_at": now,
                }
                for p in complaints
            ]
            if case_rows:
                conn.execute(insert(cases), case_rows)
                conn.execute(
                    insert(case_messages),
                    [
                        {
                            "message_pk": c["id"],
                            "case_pk": c["id"],
                            "rule": "new",
                            "reason": "opened",
                            "linked_at": now,
                            "linked_by": "bench",
                        }
                        for c in case_rows
                    ],
                )


def timed(client, method: str, urls: list[str], data: list[dict] | None = None) -> tuple[float, float]:
    times = []
    for i, url in enumerate(urls):
        t0 = time.perf_counter()
        response = client.open(url, method=method, data=data[i] if data else None)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code in (200, 303), (url, response.status_code)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="triage-bench-review-"))
    store = Store(folder / "triage.db")
    t0 = time.perf_counter()
    fill(store, args.messages)
    fill_s = time.perf_counter() - t0
    add_user(store, "bench", "a long benchmark passphrase", "admin")
    app = create_app(store, Settings(secure_cookies=False))
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text).group(1)
    client.post("/sign-in", data={"name": "bench", "password": "a long benchmark passphrase", "csrf_token": token})
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/to-confirm").text).group(1)
    rng = random.Random(11)
    n = args.requests
    pks = [rng.randint(1, args.messages) for _ in range(n)]
    with store.engine.connect() as conn:
        case_ids = list(conn.scalars(select(cases.c.id)))
    case_pks = [rng.choice(case_ids) for _ in range(n)]
    for url in ("/queue", "/to-confirm", f"/messages/{pks[0]}"):  # warm the caches once; check the pages are whole
        assert "</html>" in client.get(url).text
    assert "Kind probabilities" in client.get(f"/messages/{pks[1]}").text
    figures = {
        "queue page (all)": timed(client, "GET", ["/queue"] * n),
        "queue page (area + flag + due, page 3)": timed(
            client, "GET", [f"/queue?area=Complaints&flag=hazard&due=7&offset={100 + i % 3}" for i in range(n)]
        ),
        "queue page (complaints)": timed(client, "GET", ["/queue?kind=complaint"] * n),
        "to-confirm page (least confident first)": timed(client, "GET", ["/to-confirm"] * n),
        "bulk page": timed(client, "GET", ["/bulk"] * n),
        "message page": timed(client, "GET", [f"/messages/{pk}" for pk in pks]),
        "case page": timed(client, "GET", [f"/cases/{pk}" for pk in case_pks]),
        "confirm an item (POST)": timed(
            client,
            "POST",
            [f"/messages/{pk}" for pk in range(1, n + 1)],
            [{"csrf_token": csrf, "action": "confirm", "version": "0"}] * n,
        ),
    }
    figures[f"agreement page ({n} decisions)"] = timed(client, "GET", ["/agreement"] * n)
    print(f"{args.messages:,} messages filled in {fill_s:.1f} s; {n} requests each, in-process (server time)")
    for name, (p50, p95) in figures.items():
        print(f"  {name:<42} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
    print(f"load average during the run: {', '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    store.close()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
