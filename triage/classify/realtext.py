"""Figures on real text nobody on the project wrote: the shared development corpora.

``../shared/corpora/tweets-dev`` (complaint tweets, ACL 2019) and ``../shared/corpora/ombudsman-dev``
(complaint summaries in a complaints officer's voice). Evaluation only: nothing here trains or
tunes on them. Each is scored exactly as its README says:

- tweets: channel ``webform``, empty subject; a predicted complaint is kind ``complaint`` or
  ``dissatisfied``; complaint precision, recall and the two-class macro-F1, on all tweets and on
  brand tweets (domain not ``random_*``);
- ombudsman: channel ``email``, subject ``Complaint``, body = text; complaint recall, theme
  micro-F1 and per-theme F1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support

from triage.classify.data import Example, TextInput, input_from_record
from triage.classify.model import Prediction
from triage.labels import THEMES

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
TWEETS = "tweets-dev"
OMBUDSMAN = "ombudsman-dev"


class Predictor(Protocol):
    def predict(self, items: list[TextInput]) -> list[Prediction]: ...


def _read(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def tweet_inputs(rows: list[dict[str, Any]]) -> list[TextInput]:
    return [input_from_record({"id": r["id"], "subject": "", "body": r["text"], "channel": "webform"}) for r in rows]


def ombudsman_examples(rows: list[dict[str, Any]]) -> list[Example]:
    out = []
    for r in rows:
        item = input_from_record({"id": r["id"], "subject": "Complaint", "body": r["text"], "channel": "email"})
        labels = r["labels"]
        out.append(Example(item, labels["kind"], bool(labels["dissatisfied"]), sorted(labels["themes"])))
    return out


def _binary(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    prec, rec, _, _ = precision_recall_fscore_support(y, p, labels=[True], zero_division=0)
    return {
        "examples": len(y),
        "complaints": int(y.sum()),
        "precision": round(float(prec[0]), 4),
        "recall": round(float(rec[0]), 4),
        "macro_f1": round(float(f1_score(y, p, average="macro", labels=[False, True], zero_division=0)), 4),
    }


def score_tweets(rows: list[dict[str, Any]], predictions: list[Prediction]) -> dict[str, Any]:
    y = np.array([bool(r["complaint"]) for r in rows])
    p = np.array([pr.kind == "complaint" or pr.dissatisfied for pr in predictions])
    brand = np.array([not str(r.get("domain", "")).startswith("random") for r in rows])
    return {"all": _binary(y, p), "brand": _binary(y[brand], p[brand])}


def score_ombudsman(examples: list[Example], predictions: list[Prediction]) -> dict[str, Any]:
    is_complaint = np.array([e.kind == "complaint" for e in examples])
    found = np.array([p.kind == "complaint" for p in predictions])
    y_t = np.array([[t in e.themes for t in THEMES] for e in examples])
    p_t = np.array([[t in p.themes for t in THEMES] for p in predictions])
    _, _, f, support = precision_recall_fscore_support(y_t, p_t, zero_division=0)
    return {
        "examples": len(examples),
        "complaint_recall": round(float(found[is_complaint].mean()), 4) if is_complaint.any() else None,
        "theme_micro_f1": round(float(f1_score(y_t, p_t, average="micro", zero_division=0)), 4),
        "themes": {t: {"f1": round(float(f[k]), 4), "support": int(support[k])} for k, t in enumerate(THEMES) if support[k]},
    }


def evaluate_real_text(model: Predictor, corpora: Path = CORPORA) -> dict[str, Any]:
    """Both shared corpora, each scored as its README says; a note in place of a missing one."""
    out: dict[str, Any] = {}
    tweets = corpora / TWEETS / f"{TWEETS}.jsonl"
    if tweets.exists():
        rows = _read(tweets)
        out[TWEETS] = score_tweets(rows, model.predict(tweet_inputs(rows)))
    else:
        out[TWEETS] = {"missing": f"{tweets} not found: real-text tweet figures not computed."}
    omb = corpora / OMBUDSMAN / f"{OMBUDSMAN}.jsonl"
    if omb.exists():
        examples = ombudsman_examples(_read(omb))
        out[OMBUDSMAN] = score_ombudsman(examples, model.predict([e.input for e in examples]))
    else:
        out[OMBUDSMAN] = {"missing": f"{omb} not found: register-voice figures not computed."}
    return out


def format_real_text(m: dict[str, Any]) -> str:
    lines = ["Real text (shared development corpora; evaluation only)"]
    t = m.get(TWEETS, {})
    if "missing" in t:
        lines.append(f"  {TWEETS}: {t['missing']}")
    elif t:
        for part in ("all", "brand"):
            r = t[part]
            lines.append(
                f"  {TWEETS} {part:5} ({r['examples']}, {r['complaints']} complaints): macro-F1 {r['macro_f1']:.3f}, "
                f"complaint precision {r['precision']:.3f}, recall {r['recall']:.3f}"
            )
    o = m.get(OMBUDSMAN, {})
    if "missing" in o:
        lines.append(f"  {OMBUDSMAN}: {o['missing']}")
    elif o:
        lines.append(
            f"  {OMBUDSMAN} ({o['examples']}): complaint recall {o['complaint_recall']:.3f}, theme micro-F1 {o['theme_micro_f1']:.3f}"
        )
        lines.append("    per theme F1: " + ", ".join(f"{k} {v['f1']:.2f} ({v['support']})" for k, v in o["themes"].items()))
    return "\n".join(lines)
