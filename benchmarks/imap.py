"""IMAP speed against a local Dovecot: backlog msg/s and new-mail latency with IDLE.

Starts a throwaway Dovecot on 127.0.0.1 (as the tests do, from Debian's dovecot-imapd),
appends N typical messages (made like benchmarks/ingest.py makes them), then measures:

- a bare imapclient fetch of all of them (BODY.PEEK[], batches of --batch), for comparison;
- triage's backlog path on one core: fetch + parse + classify + route + store + keywords;
- new-mail latency with IDLE: APPEND by another client -> stored and classified, over --latency
  messages appended one at a time while `triage watch` runs.

    python benchmarks/imap.py --n 10000
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks")]

from dovecot import Dovecot, dovecot_binary  # noqa: E402  (tests/dovecot.py)
from ingest import make_message  # noqa: E402  (benchmarks/ingest.py)

from triage.jobs import watch_pipeline  # noqa: E402
from triage.pipeline import load  # noqa: E402
from triage.store.db import Store  # noqa: E402


def write_pipeline(folder: Path, server: Dovecot, user: str, batch: int) -> Path:
    path = folder / "bench.toml"
    path.write_text(
        f"""[pipeline]
name = "imap-bench"
store = "{folder / "bench.db"}"
model = "{ROOT / "models" / "default"}"

[[sources]]
type = "imap"
host = "127.0.0.1"
port = {server.port}
tls = "none"
username = "{user}"
password_env = "BENCH_IMAP_PASSWORD"
batch_size = {batch}
poll_seconds = 300
"""
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000, help="backlog size (default 10000)")
    parser.add_argument("--batch", type=int, default=200, help="messages per FETCH (default 200, triage's default)")
    parser.add_argument("--latency", type=int, default=50, help="messages for the IDLE latency figure (default 50)")
    args = parser.parse_args()
    binary = dovecot_binary()
    if binary is None:
        sys.exit("Dovecot is not installed: apt-get install dovecot-imapd")

    server = Dovecot(binary)
    server.start()  # before pinning: Dovecot is free to use the other cores
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # triage on one core
    try:
        user = server.new_user()
        os.environ["BENCH_IMAP_PASSWORD"] = user.password
        admin = server.client(user)
        rng = random.Random(42)
        t0 = time.perf_counter()
        sizes = []
        chunk: list[bytes] = []
        for i in range(args.n):
            data = make_message(i, rng)
            sizes.append(len(data))
            chunk.append(data)
            if len(chunk) == 200 or i == args.n - 1:
                admin.multiappend("INBOX", chunk)
                chunk = []
        print(
            f"{args.n} messages appended in {time.perf_counter() - t0:.1f} s, size median {statistics.median(sizes) / 1024:.1f} KB "
            f"(min {min(sizes) / 1024:.1f}, max {max(sizes) / 1024:.1f}, total {sum(sizes) / 1e6:.0f} MB)"
        )

        admin.select_folder("INBOX", readonly=True)
        uids = admin.search(["ALL"])
        t0 = time.perf_counter()
        fetched = 0
        for start in range(0, len(uids), args.batch):
            fetched += len(admin.fetch(uids[start : start + args.batch], [b"BODY.PEEK[]"]))
        bare = fetched / (time.perf_counter() - t0)
        admin.unselect_folder()
        print(f"bare imapclient fetch (BODY.PEEK[], {args.batch} per FETCH): {bare:,.0f} messages/s")

        from triage.classify.service import load_model

        load_model()  # import spaCy/scikit-learn once, so the figure is about messages, not start-up
        with tempfile.TemporaryDirectory() as tmp:
            pipeline = load(write_pipeline(Path(tmp), server, user.name, args.batch))
            with Store(pipeline.store_url()) as store:
                t0 = time.perf_counter()
                result = watch_pipeline(pipeline, store, threading.Event(), once=True)
                elapsed = time.perf_counter() - t0
                assert result.counts.stored == args.n, result.counts
                assert store.count("classifications") == args.n
                print(
                    f"triage backlog (fetch + parse + classify + route + store in SQLite + keywords), one core: "
                    f"{args.n / elapsed:,.0f} messages/s ({elapsed:.1f} s, including a warm model load)"
                )

                stop = threading.Event()
                watcher = threading.Thread(target=lambda: watch_pipeline(pipeline, store, stop))
                watcher.start()
                time.sleep(2)  # into IDLE
                latencies = []
                target = args.n
                for j in range(args.latency):
                    data = make_message(args.n + j, rng)
                    target += 1
                    t0 = time.perf_counter()
                    admin.append("INBOX", data)
                    while store.count("classifications") < target:
                        if time.perf_counter() - t0 > 30:
                            raise SystemExit(f"message {j} was not stored within 30 s")
                        time.sleep(0.005)
                    latencies.append(time.perf_counter() - t0)
                    time.sleep(rng.uniform(0.05, 0.3))
                stop.set()
                watcher.join()
                q = statistics.quantiles(latencies, n=20)
                print(
                    f"new mail with IDLE, APPEND -> stored and classified, {len(latencies)} messages: "
                    f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {q[18] * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
                )
        admin.logout()
    finally:
        server.close()


if __name__ == "__main__":
    main()
