"""From bytes to case: the whole pipeline beside the classifier's own rate, one core, start-up
excluded (the model is loaded before the clock starts).

Makes N typical .eml files (as benchmarks/ingest.py does) and the same texts as JSONL, then prints:

- `triage classify` on the JSONL, and on the .eml files (read, parse, predict, JSON out), the JSONL
  timed before and after the .eml files and averaged (a process slows a little with each pass);
- `triage run` into SQLite: .eml -> stored, classified, routed message on its case;
- `triage run` with no model (parse, separate replies, store);
- with --workers W (W > 1): the same classified import with W processes, without pinning,
  beside one process without pinning (the scaling figure);
- peak RSS of this process.

The machine may be shared: the load average is printed beside the figures, and each one-core
figure is also given per CPU second of this process (messages / process CPU time), which other
load on the machine changes much less than the wall-clock rate.

    python benchmarks/pipeline.py --n 4000 --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from ingest import make_message  # noqa: E402  (benchmarks/ingest.py)

# The model's modules are imported where they are used, not here: `--workers` starts processes
# with spawn, which import this file again, and `triage run --workers` pays no such import.
from triage.jobs import LoadedModel, run_pipeline  # noqa: E402
from triage.pipeline import load  # noqa: E402
from triage.store.db import Store  # noqa: E402

MODEL = ROOT / "models" / "default"


def pipeline_file(folder: Path, mail: Path, store: Path, model: bool) -> Path:
    path = folder / f"bench-{'model' if model else 'plain'}.toml"
    path.write_text(
        f'[pipeline]\nname = "bench"\nstore = {json.dumps(str(store))}\n'
        + (f"model = {json.dumps(str(MODEL))}\n" if model else "")
        + f'\n[[sources]]\ntype = "files"\npaths = [{json.dumps(str(mail))}]\n'
    )
    return path


CPU: dict[str, float] = {}  # figure -> messages per CPU second of this process


def same_inputs(jsonl: Path, mail: Path) -> None:
    """The JSONL holds what the model reads of each .eml file (subject, new and quoted text,
    sender, channel, automatic-mail mark), so the two classify figures compare like with like."""
    from dataclasses import astuple

    from triage.classify.service import inputs_from_files

    eml = [astuple(i)[1:] for batch in inputs_from_files([mail]) for i in batch]
    texts = [astuple(i)[1:] for batch in inputs_from_files([jsonl]) for i in batch]
    differ = sum(a != b for a, b in zip(eml, texts, strict=True))
    assert differ == 0, f"{differ} of {len(eml)} JSONL inputs differ from their .eml file's"


def classify_rate(model: object, path: Path, n: int, name: str) -> float:
    """What `triage classify PATH` does after loading the model, output to /dev/null."""
    from triage.classify.service import inputs_from_files, prediction_json

    t0, c0 = time.perf_counter(), time.process_time()
    with open(os.devnull, "w") as out:
        for batch in inputs_from_files([path]):
            out.write("\n".join(json.dumps(prediction_json(p), ensure_ascii=False) for p in model.predict(batch)) + "\n")  # type: ignore[attr-defined]
    CPU[name] = n / (time.process_time() - c0)
    return n / (time.perf_counter() - t0)


def run_rate(folder: Path, mail: Path, n: int, name: str, classify: bool, workers: int = 1) -> float:
    """`triage run` on the mail folder into a new SQLite store; the model is loaded first (and,
    with workers, the worker processes start and load it, as `triage run --workers` starts them
    once for reading and classifying) outside the clock."""
    store_path = folder / f"{name}.db"
    plain = load(pipeline_file(folder, mail, store_path, model=False))
    with Store(store_path) as store:
        if not classify:
            t0 = time.perf_counter()
            c0 = time.process_time()
            result = run_pipeline(plain, store, workers)
            elapsed = time.perf_counter() - t0
            CPU[name] = n / (time.process_time() - c0)
        else:
            loaded = LoadedModel.for_pipeline(load(pipeline_file(folder, mail, store_path, model=True)))
            assert loaded is not None
            if workers > 1:
                from triage.jobs import classify_store
                from triage.parallel import worker_predictor

                with worker_predictor(MODEL, workers) as predictor:
                    for f in [predictor.submit([]) for _ in range(workers * 2)]:  # wait for the workers' model loads
                        f.result()
                    t0 = time.perf_counter()
                    result = run_pipeline(plain, store, workers, predictor)  # the same processes read the files
                    classify_store(store, None, loaded.table, loaded=(loaded.model, loaded.meta), predictor=predictor)
                    elapsed = time.perf_counter() - t0
            else:
                t0, c0 = time.perf_counter(), time.process_time()
                result = run_pipeline(plain, store)
                loaded.classify_store(store)
                elapsed = time.perf_counter() - t0
                CPU[name] = n / (time.process_time() - c0)
        assert result.total.stored == n, result.total
        if classify:
            assert store.count("classifications") == n
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000, help="number of messages (default 4000)")
    parser.add_argument("--workers", type=int, default=1, help="also time an import with this many processes")
    parser.add_argument("--skip-model", action="store_true", help="only the no-model figure (e.g. for --n 100000)")
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cores[0]})  # one core

    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        mail = folder / "mail"
        mail.mkdir()
        for i in range(args.n):
            (mail / f"{i:06d}.eml").write_bytes(make_message(i, rng))
        print(f"{args.n} messages; load average before: {os.getloadavg()[0]:.2f}", flush=True)
        figures: dict[str, float] = {}
        if not args.skip_model:
            from triage.classify.service import inputs_from_files, load_model

            model, _ = load_model(MODEL)
            jsonl = folder / "same.jsonl"
            with Store(folder / "texts.db") as store:
                run_pipeline(load(pipeline_file(folder, mail, folder / "texts.db", model=False)), store)
                with store.engine.connect() as conn:
                    from sqlalchemy import select

                    from triage.store.schema import messages

                    cols = messages.c
                    rows = conn.execute(select(cols.id, cols.subject, cols.body_new, cols.body_quoted, cols.sender_addr))
                    jsonl.write_text(
                        "".join(
                            json.dumps(
                                {
                                    "id": r.id,
                                    "subject": r.subject,
                                    "body": r.body_new + "\n\n" + r.body_quoted,
                                    "from_addr": r.sender_addr,  # the model reads the sender's domain
                                }
                            )
                            + "\n"
                            for r in rows
                        )
                    )
            same_inputs(jsonl, mail)
            model.predict(next(inputs_from_files([jsonl])))  # warm (spaCy's caches) before either clock
            # JSONL before and after the .eml files, averaged: a process classifying the same texts
            # again runs a few per cent slower each pass, which would favour whichever ran first.
            before = classify_rate(model, jsonl, args.n, "classify_jsonl")
            cpu_before = CPU["classify_jsonl"]
            figures["classify_eml"] = classify_rate(model, mail, args.n, "classify_eml")
            after = classify_rate(model, jsonl, args.n, "classify_jsonl")
            print(f"classify_jsonl before and after the .eml files: {before:,.0f} and {after:,.0f} messages/s")
            figures = {"classify_jsonl": (before + after) / 2, **figures}
            CPU["classify_jsonl"] = (cpu_before + CPU["classify_jsonl"]) / 2
            figures["run_classified"] = run_rate(folder, mail, args.n, "run_classified", classify=True)
        figures["run_no_model"] = run_rate(folder, mail, args.n, "run_no_model", classify=False)
        load_one = os.getloadavg()[0]
        if args.workers > 1 and not args.skip_model:
            os.sched_setaffinity(0, set(cores))
            figures["run_classified_1_unpinned"] = run_rate(folder, mail, args.n, "one", classify=True)
            figures[f"run_classified_{args.workers}_workers"] = run_rate(
                folder, mail, args.n, "many", classify=True, workers=args.workers
            )
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"load average after: {os.getloadavg()[0]:.2f} (after the one-core figures: {load_one:.2f})")
        for name, rate in figures.items():
            cpu = f"   {CPU[name]:8,.0f} per CPU second" if name in CPU else ""
            print(f"{name:32s} {rate:8,.0f} messages/s{cpu}")
        if "classify_jsonl" in figures:
            base, cpu_base = figures["classify_jsonl"], CPU["classify_jsonl"]
            for name, label, target in (
                ("classify_eml", "classify .eml / JSONL", 0.9),
                ("run_classified", "run (classified) / classify JSONL", 0.8),
            ):
                print(
                    f"{label:34s} {figures[name] / base:.2f} wall, {CPU[name] / cpu_base:.2f} per CPU second  (target >= {target})"
                )
        if f"run_classified_{args.workers}_workers" in figures:
            ratio = figures[f"run_classified_{args.workers}_workers"] / figures["run_classified_1_unpinned"]
            print(f"{args.workers} workers / 1 process:            {ratio:.2f}  (target >= 1.7 for 2)")
        print(f"peak RSS: {rss:,.0f} MB")


if __name__ == "__main__":
    main()
