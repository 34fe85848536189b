"""The shipped sentence encoder: its files are what its sidecar says, it is refused when they are
not, and its embeddings behave as a sentence encoder's should."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from triage.classify.encoder import SentenceEncoder
from triage.errors import ModelError

FOLDER = ROOT / "models" / "encoders" / "all-minilm-l6-v2"


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder(FOLDER)


def test_encoder_folder_carries_licence_provenance_and_hashes() -> None:
    meta = json.loads((FOLDER / "encoder.json").read_text())
    assert meta["licence"] == "Apache-2.0" and meta["version"] == "1110a243"
    assert set(meta["files"]) == {"model.safetensors", "tokenizer.json", "config.json", "LICENSE", "PROVENANCE.md"}
    assert "Apache License" in (FOLDER / "LICENSE").read_text() and "Version 2.0" in (FOLDER / "LICENSE").read_text()
    provenance = (FOLDER / "PROVENANCE.md").read_text()
    for name in ("model.safetensors", "tokenizer.json", "config.json", "LICENSE"):
        assert meta["files"][name]["sha256"] in provenance  # the note states every file's hash
    assert "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db" in provenance


def test_similar_sentences_are_closer_than_unrelated_ones(encoder: SentenceEncoder) -> None:
    v = encoder.encode(
        [
            "my boiler has broken and there is no hot water",
            "the heating and hot water have stopped working",
            "can I pay my rent by direct debit",
        ]
    )
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > 0.5 > v[0] @ v[2] + 0.2


def test_batching_and_padding_do_not_change_an_embedding(encoder: SentenceEncoder) -> None:
    texts = ["no heating", "the repair was booked for Tuesday but nobody came and nobody rang to say why", "thanks"]
    together = encoder.encode(texts, batch_size=3)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)


@pytest.mark.parametrize("damage", ["flip", "truncate", "remove"])
def test_a_changed_encoder_file_is_refused(tmp_path: Path, damage: str) -> None:
    folder = tmp_path / "enc"
    shutil.copytree(FOLDER, folder)
    target = folder / "tokenizer.json"
    data = bytearray(target.read_bytes())
    if damage == "flip":
        data[100] ^= 0x01
        target.write_bytes(bytes(data))
    elif damage == "truncate":
        target.write_bytes(bytes(data[:-10]))
    else:
        target.unlink()
    with pytest.raises(ModelError, match=r"tokenizer\.json: (refused to load|this encoder file is missing)"):
        SentenceEncoder(folder)
