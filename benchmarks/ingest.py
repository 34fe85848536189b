"""Ingest speed: parse + separate replies + store into SQLite, on one core.

Generates N synthetic .eml files of typical size (5-20 KB: a new text, a signature, a quoted
thread of earlier replies, half of them multipart/alternative with an HTML part, some with a
small attachment), then times triage's own ingest path over them and prints messages/s.
The stdlib parse alone is timed on the same files for comparison.

    python benchmarks/ingest.py --n 3000
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import random
import statistics
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from triage.jobs import ingest_paths
from triage.store.db import Store

WORDS = (
    "the repair leak ceiling bathroom kitchen mould damp boiler heating contractor appointment "
    "nobody came again reported weeks months please could you arrange someone visit flat estate "
    "block door window fence tenancy officer called back email reference complaint stage service "
    "charge rent account children asthma winter cold water pipe roof gutter stairwell lift"
).split()


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 22))).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(2, 6)))


def make_message(i: int, rng: random.Random) -> bytes:
    # Whole message 5-20 KB: the HTML alternative roughly doubles the text, so aim lower there.
    target = rng.randint(5_000, 20_000) // (2 if i % 2 else 1)
    new = "\n\n".join(paragraph(rng) for _ in range(rng.randint(1, 3)))
    body = f"{new}\n\nKind regards\nResident {i}\nFlat {i % 90}, {i % 40} Example Road\n07700 900{i % 1000:03d}\n"
    depth = 0
    while len(body) < target:
        depth += 1
        quoted = "\n".join("> " + line for line in paragraph(rng).split(". "))
        body += f"\nOn Mon, {depth} Nov 2026 at 09:{depth:02d}, Repairs Team <repairs@landlord.example> wrote:\n{quoted}\n"
    msg = EmailMessage()
    msg["From"] = f"Resident {i} <resident{i}@example.com>"
    msg["To"] = "customer.services@landlord.example"
    msg["Subject"] = f"Re: repair {100000 + i}"
    msg["Date"] = "Tue, 03 Nov 2026 10:02:00 +0000"
    msg["Message-ID"] = f"<bench-{i}@example.com>"
    msg.set_content(body)
    if i % 2:
        msg.add_alternative(
            "<html><body>" + "".join(f"<p>{p}</p>" for p in body.split("\n\n")) + "</body></html>", subtype="html"
        )
    if i % 10 == 0:
        msg.add_attachment(rng.randbytes(2000), maintype="image", subtype="jpeg", filename="photo.jpg")
    return msg.as_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="number of messages (default 3000)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs; the median is reported")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "mail"
        folder.mkdir()
        sizes = []
        for i in range(args.n):
            data = make_message(i, rng)
            sizes.append(len(data))
            (folder / f"{i:06d}.eml").write_bytes(data)
        print(
            f"{args.n} messages, size median {statistics.median(sizes) / 1024:.1f} KB "
            f"(min {min(sizes) / 1024:.1f}, max {max(sizes) / 1024:.1f})"
        )

        stdlib, ours = [], []
        for run in range(args.runs):
            t0 = time.perf_counter()
            for path in sorted(folder.iterdir()):
                m = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                body = m.get_body(("plain", "html"))
                if body is not None:
                    body.get_content()
            stdlib.append(args.n / (time.perf_counter() - t0))

            db = Path(tmp) / f"bench-{run}.db"
            with Store(db) as store:
                t0 = time.perf_counter()
                result = ingest_paths(store, [folder])
                elapsed = time.perf_counter() - t0
                assert result.total.stored == args.n, result.total
            ours.append(args.n / elapsed)

        print(f"stdlib policy.default parse + get_body + get_content: {statistics.median(stdlib):,.0f} messages/s")
        print(
            f"triage ingest (parse, separate replies, store in SQLite): {statistics.median(ours):,.0f} messages/s "
            f"(runs: {', '.join(f'{r:,.0f}' for r in ours)})"
        )


if __name__ == "__main__":
    main()
