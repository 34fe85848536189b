"""Sign-in throttling and retention, measured.

Sign-in (through the real app, Flask's in-process client, and with a simulated clock):
- 30 wrong passwords for one account from one address, then the right one from another
  address: how many wrong ones were checked, and the second address's answer and time;
- a burst of 100 guesses at 100 names from one address: how many were checked;
- a patient guesser that retries the moment it is allowed, for 15 simulated minutes, at one
  name and at many names: the most passwords checked in any 60 seconds.

Purge: fills a SQLite store with N messages (benchmarks/report.py's filler), closes the
cases whose complaint was answered, then times ``purge --dry-run`` and ``purge`` and checks that
the report's headline figures are unchanged.

    python benchmarks/safety.py --n 100000
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, update

sys.path.insert(0, str(Path(__file__).parent))
from report import fill_store

from triage.report import make_report
from triage.review import Settings, create_app
from triage.review.auth import add_user, sign_in
from triage.review.throttle import Throttled
from triage.store.db import Store
from triage.store.retention import purge
from triage.store.schema import case_events, cases

PASSWORD = "correct horse battery staple"


def _try(app, name: str, password: str, address: str) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    import re

    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text).group(1)
    t0 = time.perf_counter()
    response = client.post("/sign-in", data={"name": name, "password": password, "csrf_token": token})
    return response.status_code, (time.perf_counter() - t0) * 1000


def _patient(store: Store, names: list[str], minutes: int, start: datetime, address: str) -> list[datetime]:
    now, end, checked, i = start, start + timedelta(minutes=minutes), [], 0
    while now < end:
        try:
            sign_in(store, names[i % len(names)], "wrong password!", address, now=now)
            checked.append(now)
            i += 1
            now += timedelta(milliseconds=300)
        except Throttled as exc:
            now += timedelta(seconds=exc.retry_after)
    return checked


def _most_in_a_minute(times: list[datetime]) -> int:
    return max((sum(1 for u in times if t <= u < t + timedelta(minutes=1)) for t in times), default=0)


def sign_in_figures(folder: Path) -> None:
    store = Store(folder / "sign-in.db")
    add_user(store, "rob", PASSWORD)
    app = create_app(store, Settings(secure_cookies=False))
    codes = [_try(app, "rob", f"wrong {i}", "198.51.100.7")[0] for i in range(30)]
    status, ms = _try(app, "rob", PASSWORD, "203.0.113.20")
    print(f"30 wrong passwords from one address: {codes.count(401)} checked, {codes.count(429)} throttled (429)")
    print(f"then the right password from another address: HTTP {status} in {ms:.0f} ms")
    burst = [_try(app, f"name{i}", "wrong", "192.0.2.1") for i in range(100)]
    throttled_ms = sorted(ms for code, ms in burst if code == 429)
    print(
        f"burst of 100 guesses at 100 names from one address: {sum(c == 401 for c, _ in burst)} checked; "
        f"a throttled answer takes {throttled_ms[len(throttled_ms) // 2]:.1f} ms (median)"
    )
    later = datetime.now(UTC) + timedelta(days=1)  # simulated time after every real try above
    one = _patient(store, ["rob"], 15, later, "198.51.100.8")
    many = _patient(store, [f"n{i}" for i in range(200)], 15, later, "198.51.100.9")
    print(f"patient guesser, 15 simulated minutes, one name: {len(one)} checked, at most {_most_in_a_minute(one)} in any minute")
    print(
        f"patient guesser, 15 simulated minutes, 200 names: {len(many)} checked, at most {_most_in_a_minute(many)} in any minute"
    )
    store.close()


def purge_figures(folder: Path, n: int) -> None:
    db = folder / "purge.db"
    t0 = time.perf_counter()
    fill_store(str(db), n)
    with Store(db) as store, store.transaction() as conn:
        answered = (
            select(case_events.c.case_pk, func.max(case_events.c.on).label("on"))
            .where(case_events.c.event == "responded")
            .group_by(case_events.c.case_pk)
        )
        rows = conn.execute(answered).all()
        now = datetime.now(UTC)
        conn.execute(
            insert(case_events),
            [
                {
                    "case_pk": pk,
                    "event": "closed",
                    "stage": "stage_1",
                    "on": on + timedelta(days=1),
                    "recorded_at": now,
                    "recorded_by": "bench",
                }
                for pk, on in rows
            ],
        )
        conn.execute(update(cases).where(cases.c.id.in_([pk for pk, _ in rows])).values(stage="closed"))
    print(f"filled {n:,} messages, closed {len(rows):,} cases in {time.perf_counter() - t0:.1f} s")
    report_args = {"by": "month", "store": str(db), "homes": 40000}
    before = {f.id: f.value for f in make_report(date(2025, 4, 1), date(2026, 3, 31), **report_args).figures}
    with Store(db) as store:
        cutoff = date(2026, 1, 1)
        t0 = time.perf_counter()
        dry = purge(store, cutoff, "bench", dry_run=True)
        t1 = time.perf_counter()
        done = purge(store, cutoff, "bench")
        t2 = time.perf_counter()
    after = {f.id: f.value for f in make_report(date(2025, 4, 1), date(2026, 3, 31), **report_args).figures}
    print(
        f"purge --dry-run: {len(dry.case_ids):,} cases, {dry.messages:,} messages in {t1 - t0:.1f} s; "
        f"purge: {len(done.case_ids):,} cases, {done.messages:,} messages in {t2 - t1:.1f} s"
    )
    print(f"report headline figures identical before and after: {before == after} ({len(before)} figures)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="messages in the purge store")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    folder = Path(tempfile.mkdtemp(prefix="triage-safety-bench-"))
    try:
        sign_in_figures(folder)
        purge_figures(folder, args.n)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
