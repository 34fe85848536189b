"""Move a fixed share of each training file to dev/, chosen by id (run once; re-running moves
nothing more). The test split is not touched: it was written separately."""

import hashlib
import json
from pathlib import Path

ROOT = Path(__file__).parent
DEV_PERCENT = 15


def is_dev(record_id: str) -> bool:
    return int(hashlib.sha256(record_id.encode()).hexdigest(), 16) % 100 < DEV_PERCENT


for train_file in sorted((ROOT / "train").glob("*.jsonl")):
    lines = [line for line in train_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    keep = [line for line in lines if not is_dev(json.loads(line)["id"])]
    move = [line for line in lines if is_dev(json.loads(line)["id"])]
    if move:
        dev_file = ROOT / "dev" / train_file.name
        existing = dev_file.read_text(encoding="utf-8").splitlines() if dev_file.exists() else []
        dev_file.write_text("\n".join(existing + move) + "\n", encoding="utf-8")
        train_file.write_text("\n".join(keep) + "\n", encoding="utf-8")
    print(f"{train_file.name}: {len(keep)} train, {len(move)} moved to dev")
