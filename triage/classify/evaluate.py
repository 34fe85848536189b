"""Honest evaluation: per-class precision/recall/F1, confusion matrix, macro-F1, dissatisfied
F1, theme micro/macro-F1, expected calibration error, the worst errors, the coverage/accuracy
trade-off of the confidence policy, and the same figures for the keyword baseline."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from triage.classify.baseline import baseline_predict
from triage.classify.data import Example
from triage.classify.model import Prediction
from triage.labels import KINDS, THEMES


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """ECE with equal-width bins: the gap between confidence and accuracy, weighted by bin size."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in itertools.pairwise(edges):
        mask = (confidence > lo) & (confidence <= hi)
        if mask.any():
            ece += mask.mean() * abs(confidence[mask].mean() - correct[mask].mean())
    return float(ece)


def label_metrics(examples: list[Example], kinds: list[str], dissatisfied: list[bool], themes: list[list[str]]) -> dict[str, Any]:
    y_kind = [e.kind for e in examples]
    p, r, f, s = precision_recall_fscore_support(y_kind, kinds, labels=list(KINDS), zero_division=0)
    y_t = np.array([[t in e.themes for t in THEMES] for e in examples])
    p_t = np.array([[t in ts for t in THEMES] for ts in themes])
    tp_, tr_, tf_, ts_ = precision_recall_fscore_support(y_t, p_t, zero_division=0)
    return {
        "examples": len(examples),
        "kind": {
            k: {
                "precision": round(float(p[i]), 4),
                "recall": round(float(r[i]), 4),
                "f1": round(float(f[i]), 4),
                "support": int(s[i]),
            }
            for i, k in enumerate(KINDS)
        },
        "kind_macro_f1": round(float(f.mean()), 4),
        "kind_accuracy": round(float(np.mean([a == b for a, b in zip(y_kind, kinds, strict=True)])), 4),
        "confusion": {"labels": list(KINDS), "matrix": confusion_matrix(y_kind, kinds, labels=list(KINDS)).tolist()},
        "dissatisfied_f1": round(float(f1_score([e.dissatisfied for e in examples], dissatisfied, zero_division=0)), 4),
        "theme_micro_f1": round(float(f1_score(y_t, p_t, average="micro", zero_division=0)), 4),
        "theme_macro_f1": round(float(f1_score(y_t, p_t, average="macro", zero_division=0)), 4),
        "themes": {
            t: {
                "precision": round(float(tp_[k]), 4),
                "recall": round(float(tr_[k]), 4),
                "f1": round(float(tf_[k]), 4),
                "support": int(ts_[k]),
            }
            for k, t in enumerate(THEMES)
        },
    }


def evaluate(
    examples: list[Example], predictions: list[Prediction], thresholds: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9)
) -> dict[str, Any]:
    metrics = label_metrics(
        examples, [p.kind for p in predictions], [p.dissatisfied for p in predictions], [p.themes for p in predictions]
    )
    confidence = np.array([p.kind_scores[p.kind] for p in predictions])
    correct = np.array([p.kind == e.kind for p, e in zip(predictions, examples, strict=True)])
    metrics["kind_ece"] = round(expected_calibration_error(confidence, correct), 4)
    dis_p = np.array([p.dissatisfied_score for p in predictions])
    dis_conf = np.where(dis_p >= 0.5, dis_p, 1 - dis_p)
    dis_correct = np.array([p.dissatisfied == e.dissatisfied for p, e in zip(predictions, examples, strict=True)])
    metrics["dissatisfied_ece"] = round(expected_calibration_error(dis_conf, dis_correct), 4)
    metrics["needs_review_share"] = round(float(np.mean([p.needs_review for p in predictions])), 4)
    metrics["decided_by_encoder"] = round(float(np.mean([p.decided_by == "encoder" for p in predictions])), 4)
    metrics["coverage"] = [
        {
            "threshold": t,
            "coverage": round(float((confidence >= t).mean()), 4),
            "accuracy": round(float(correct[confidence >= t].mean()), 4) if (confidence >= t).any() else None,
        }
        for t in thresholds
    ]
    wrong = sorted((i for i in range(len(examples)) if not correct[i]), key=lambda i: -confidence[i])
    metrics["worst_errors"] = [
        {
            "id": examples[i].input.id,
            "true": examples[i].kind,
            "predicted": predictions[i].kind,
            "confidence": round(float(confidence[i]), 3),
            "text": (examples[i].input.subject + " | " + examples[i].input.new)[:160],
        }
        for i in wrong[:10]
    ]
    base = [baseline_predict(e.input) for e in examples]
    metrics["baseline"] = label_metrics(examples, [b[0] for b in base], [b[1] for b in base], [b[2] for b in base])
    return metrics


def by_file(examples: list[Example], predictions: list[Prediction]) -> dict[str, dict[str, Any]]:
    """The headline figures per corpus file: the new voices' test files apart from the rest."""
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        groups.setdefault(e.source.rsplit(":", 1)[0].rsplit("/", 1)[-1] or "?", []).append(i)
    new_voices = [i for name, idx in groups.items() if name.endswith("_t.jsonl") for i in idx]
    if new_voices and len(new_voices) < len(examples):
        groups["all new voices (*_t)"] = sorted(new_voices)
    out = {}
    for name, idx in sorted(groups.items()):
        ex, pr = [examples[i] for i in idx], [predictions[i] for i in idx]
        m = label_metrics(ex, [p.kind for p in pr], [p.dissatisfied for p in pr], [p.themes for p in pr])
        conf = np.array([p.kind_scores[p.kind] for p in pr])
        correct = np.array([p.kind == e.kind for p, e in zip(pr, ex, strict=True)])
        out[name] = {
            "examples": len(idx),
            "kind_macro_f1": m["kind_macro_f1"],
            "complaint_precision": m["kind"]["complaint"]["precision"],
            "complaint_recall": m["kind"]["complaint"]["recall"],
            "dissatisfied_f1": m["dissatisfied_f1"],
            "theme_micro_f1": m["theme_micro_f1"],
            "kind_ece": round(expected_calibration_error(conf, correct), 4),
            "decided_by_encoder": round(float(np.mean([p.decided_by == "encoder" for p in pr])), 4),
        }
    return out


def format_by_file(rows: dict[str, dict[str, Any]]) -> str:
    lines = [
        "by file:",
        f"  {'file':28}{'n':>5}{'kind F1':>9}{'compl P':>9}{'compl R':>9}{'dis F1':>8}{'theme F1':>10}{'ECE':>7}{'encoder':>9}",
    ]
    for name, r in rows.items():
        lines.append(
            f"  {name:28}{r['examples']:>5}{r['kind_macro_f1']:>9.3f}{r['complaint_precision']:>9.3f}{r['complaint_recall']:>9.3f}"
            f"{r['dissatisfied_f1']:>8.3f}{r['theme_micro_f1']:>10.3f}{r['kind_ece']:>7.3f}{r['decided_by_encoder']:>9.1%}"
        )
    return "\n".join(lines)


def format_report(m: dict[str, Any], split: str) -> str:
    b = m["baseline"]
    lines = [
        f"Evaluation on {split}: {m['examples']} examples",
        "",
        f"{'':22}{'model':>10}{'keyword baseline':>20}",
        f"{'kind macro-F1':22}{m['kind_macro_f1']:>10.3f}{b['kind_macro_f1']:>20.3f}",
        f"{'kind accuracy':22}{m['kind_accuracy']:>10.3f}{b['kind_accuracy']:>20.3f}",
        f"{'dissatisfied F1':22}{m['dissatisfied_f1']:>10.3f}{b['dissatisfied_f1']:>20.3f}",
        f"{'theme micro-F1':22}{m['theme_micro_f1']:>10.3f}{b['theme_micro_f1']:>20.3f}",
        f"{'theme macro-F1':22}{m['theme_macro_f1']:>10.3f}{b['theme_macro_f1']:>20.3f}",
        f"{'kind ECE':22}{m['kind_ece']:>10.3f}",
        f"{'dissatisfied ECE':22}{m['dissatisfied_ece']:>10.3f}",
        f"{'needs review':22}{m['needs_review_share']:>10.1%}",
        f"{'decided by encoder':22}{m.get('decided_by_encoder', 0.0):>10.1%}",
        "",
        f"{'kind':18}{'precision':>10}{'recall':>8}{'F1':>7}{'n':>5}   baseline F1",
    ]
    for k in KINDS:
        r = m["kind"][k]
        lines.append(
            f"{k:18}{r['precision']:>10.3f}{r['recall']:>8.3f}{r['f1']:>7.3f}{r['support']:>5}   {b['kind'][k]['f1']:.3f}"
        )
    lines += ["", "confusion (rows true, columns predicted): " + ", ".join(KINDS)]
    lines += ["  " + " ".join(f"{v:>5}" for v in row) + f"   {k}" for k, row in zip(KINDS, m["confusion"]["matrix"], strict=True)]
    lines += ["", f"{'theme':24}{'precision':>10}{'recall':>8}{'F1':>7}{'n':>5}   baseline F1"]
    for t in THEMES:
        r = m["themes"][t]
        lines.append(
            f"{t:24}{r['precision']:>10.3f}{r['recall']:>8.3f}{r['f1']:>7.3f}{r['support']:>5}   {b['themes'][t]['f1']:.3f}"
        )
    lines += ["", "confidence policy: share of messages at or above a kind threshold, and their accuracy"]
    lines += [
        f"  >= {c['threshold']:.2f}: coverage {c['coverage']:.1%}, accuracy {c['accuracy'] if c['accuracy'] is not None else '-'}"
        for c in m["coverage"]
    ]
    lines += ["", "worst errors (most confident first):"]
    lines += [
        f"  {w['id']}: {w['true']} predicted {w['predicted']} at {w['confidence']:.2f}: {w['text']!r}" for w in m["worst_errors"]
    ]
    return "\n".join(lines)
