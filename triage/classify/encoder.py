"""A small sentence encoder run with numpy: all-MiniLM-L6-v2 without torch.

Reads: text. Writes: one 384-number embedding per text (mean of the last layer's token vectors,
L2-normalised), as sentence-transformers computes it. The weights (float16 on disk, float32 in
memory), tokenizer and licence live in ``models/encoders/<name>/`` with a sidecar
``encoder.json`` (name, version, licence, SHA-256 of every file) that is checked before any
file is read. ``tokenizers`` (Rust) splits the words; ``safetensors`` reads the weights without
running code; numpy's BLAS does the arithmetic.

The forward pass is the standard BERT encoder: embeddings, 6 layers of self-attention and a
feed-forward block, each followed by a residual add and LayerNorm. Texts are sorted by length
and encoded in batches padded to the batch's longest, so short texts cost little.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import erf
from threadpoolctl import threadpool_limits

from triage.classify.integrity import verify_files
from triage.errors import ModelError

SIDECAR = "encoder.json"


@dataclass
class _Layer:
    qkv_w: np.ndarray  # (384, 3*384): query, key and value projections side by side
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1_g: np.ndarray
    ln1_b: np.ndarray
    ff_in_w: np.ndarray
    ff_in_b: np.ndarray
    ff_out_w: np.ndarray
    ff_out_b: np.ndarray
    ln2_g: np.ndarray
    ln2_b: np.ndarray


def _layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    x = x - mean
    var = np.einsum("...i,...i->...", x, x)[..., None] / x.shape[-1]
    return x * (g / np.sqrt(var + eps)) + b


_GELU_C = np.float32(np.sqrt(2.0 / np.pi))


def _gelu(x: np.ndarray) -> np.ndarray:
    """GELU in its tanh form: 25 times faster than scipy's erf in float32, and the embeddings agree
    with the exact (erf) form to a cosine above 0.9999 (benchmarks/encoder.py measures it)."""
    return 0.5 * x * (1.0 + np.tanh(_GELU_C * (x + np.float32(0.044715) * x * x * x)))


def _gelu_exact(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + erf(x * np.float32(0.7071067811865476)))


class SentenceEncoder:
    """all-MiniLM-L6-v2 (or any BERT of the same shape) from a verified folder."""

    def __init__(self, folder: str | Path, max_tokens: int | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        self.meta = read_sidecar(self.folder)
        verify_files(self.folder, self.meta["files"], what="encoder")
        config = json.loads((self.folder / "config.json").read_text(encoding="utf-8"))
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        self.max_tokens = int(max_tokens or self.meta.get("max_tokens", 128))
        self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_tokens)
        w = {k.removeprefix("bert."): v.astype(np.float32) for k, v in load_file(str(self.folder / "model.safetensors")).items()}
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.emb_g, self.emb_b = w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"]
        self.layers = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            qkv = [w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]
            self.layers.append(
                _Layer(
                    qkv_w=np.ascontiguousarray(np.concatenate(qkv).T),
                    qkv_b=np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")]),
                    out_w=np.ascontiguousarray(w[p + "attention.output.dense.weight"].T),
                    out_b=w[p + "attention.output.dense.bias"],
                    ln1_g=w[p + "attention.output.LayerNorm.weight"],
                    ln1_b=w[p + "attention.output.LayerNorm.bias"],
                    ff_in_w=np.ascontiguousarray(w[p + "intermediate.dense.weight"].T),
                    ff_in_b=w[p + "intermediate.dense.bias"],
                    ff_out_w=np.ascontiguousarray(w[p + "output.dense.weight"].T),
                    ff_out_b=w[p + "output.dense.bias"],
                    ln2_g=w[p + "output.LayerNorm.weight"],
                    ln2_b=w[p + "output.LayerNorm.bias"],
                )
            )

    @property
    def dim(self) -> int:
        return self.hidden

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch(texts, add_special_tokens=True)]

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """L2-normalised mean-pooled embeddings, float32, one row per text, in input order."""
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        if not texts:
            return out
        ids = self.token_ids(texts)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        # One BLAS thread: these matrices are small, and on a shared machine extra BLAS threads
        # spin waiting for each other (measured: several times slower under load).
        with threadpool_limits(limits=1, user_api="blas"):
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                out[chunk] = self._forward([ids[i] for i in chunk])
        return out

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        n, length = len(batch), max(len(b) for b in batch)
        ids = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.float32)
        for i, row in enumerate(batch):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1.0
        x = self.word[ids] + self.position[:length] + self.token_type
        x = _layer_norm(x, self.emb_g, self.emb_b, self.eps).reshape(n * length, self.hidden)
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]  # padding is never attended to
        hd = self.hidden // self.heads
        scale = np.float32(1.0 / np.sqrt(hd))
        for layer in self.layers:
            qkv = (x @ layer.qkv_w + layer.qkv_b).reshape(n, length, 3, self.heads, hd)
            q = qkv[:, :, 0].transpose(0, 2, 1, 3)
            k = qkv[:, :, 1].transpose(0, 2, 3, 1)
            v = qkv[:, :, 2].transpose(0, 2, 1, 3)
            scores = (q @ k) * scale + bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(n * length, self.hidden)
            x = _layer_norm(x + (ctx @ layer.out_w + layer.out_b), layer.ln1_g, layer.ln1_b, self.eps)
            h = _gelu(x @ layer.ff_in_w + layer.ff_in_b)
            x = _layer_norm(x + (h @ layer.ff_out_w + layer.ff_out_b), layer.ln2_g, layer.ln2_b, self.eps)
        x = x.reshape(n, length, self.hidden)
        pooled = np.einsum("nld,nl->nd", x, mask) / mask.sum(axis=1, keepdims=True)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def read_sidecar(folder: Path) -> dict[str, Any]:
    path = folder / SIDECAR
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(
            f"{path}: no encoder sidecar. The encoder folder is incomplete: restore models/encoders/ from the repository."
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: the encoder sidecar is unreadable ({exc}). Restore it from the repository.") from exc
    if not isinstance(meta.get("files"), dict):
        raise ModelError(f"{path}: the encoder sidecar lists no files and their SHA-256. Restore it from the repository.")
    return meta
