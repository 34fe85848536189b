"""The classifier: tf-idf features, logistic regression heads, calibration fitted out of fold.

One vectorisation per message feeds every head; each head's weights are stacked into one
matrix so prediction is two sparse-dense products (kind + dissatisfied on the main features,
the 15 themes on main + quoted-context features). Probabilities are calibrated on
out-of-fold scores from the training set: temperature scaling for kind, Platt scaling for
dissatisfied and each theme. The complaint decision uses its own threshold, chosen out of fold
for high recall: a missed complaint costs a resident more than a second look costs staff.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import minimize_scalar
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from triage.classify.data import Example, TextInput
from triage.classify.features import Evidence, Features, featurise, identity
from triage.classify.stacker import ThemeStacker, stack_features
from triage.labels import KINDS, THEMES
from triage.text.nlp import MAX_CHARS


@dataclass
class ModelConfig:
    """One training run, fully described (pipelines/train.toml holds the values)."""

    c_kind: float = 10.0
    c_dissatisfied: float = 10.0
    c_themes: float = 10.0
    min_df: int = 2
    max_features: int = 150_000
    context_weight: float = 0.5
    char_weight: float = 0.5
    char_ngrams: tuple[int, int] = (2, 5)
    folds: int = 5
    seed: int = 13
    complaint_recall: float = 0.96
    theme_threshold_min: float = 0.25
    theme_threshold_max: float = 0.6
    auto_accept: float = 0.90
    review_below: float = 0.60
    # How many invented examples a staff-reviewed message counts as (`train --with-reviews`). 1 until a
    # landlord's own measurement says more pays: benchmarks/reviews.py found 5, 10 and 20 worse than 1.
    review_weight: float = 1.0
    # Themes decided by boosted trees over all the heads' scores (triage/classify/stacker.py).
    # False in a model saved before it existed, which keeps answering as it was measured.
    theme_stacker: bool = False
    stacker_iterations: int = 200
    stacker_learning_rate: float = 0.05
    stacker_leaves: int = 15


@dataclass
class Prediction:
    id: str
    kind: str
    kind_scores: dict[str, float]
    dissatisfied: bool
    dissatisfied_score: float
    themes: list[str]
    theme_scores: dict[str, float]
    needs_review: bool
    status: str  # accepted | suggested | needs_review
    review_reasons: list[str]
    evidence: list[Evidence]
    decided_by: str = "tfidf"  # which model of a cascade gave the labels: "tfidf" or "encoder"

    def as_dict(self) -> dict[str, Any]:
        # A shallow copy: dataclasses.asdict deep-copies every score and cost more than routing.
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["kind_scores"], data["theme_scores"] = dict(self.kind_scores), dict(self.theme_scores)
        data["themes"], data["review_reasons"] = list(self.themes), list(self.review_reasons)
        data["evidence"] = [e.as_dict() for e in self.evidence]
        return data


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    def nll(t: float) -> float:
        p = _softmax(logits / t)
        return float(-np.log(p[np.arange(len(y)), y] + 1e-12).mean())

    return float(minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded").x)


def _fit_platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    if y.min() == y.max():
        return 1.0, 0.0
    lr = LogisticRegression(C=1e6, max_iter=1000).fit(scores.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


@dataclass
class TriageModel:
    config: ModelConfig
    vec_main: TfidfVectorizer | None = None
    vec_context: TfidfVectorizer | None = None
    vec_chars: TfidfVectorizer | None = None
    w_main: np.ndarray | None = None  # (n_main, 5 kinds + 1 dissatisfied)
    b_main: np.ndarray | None = None
    w_themes: np.ndarray | None = None  # (n_main + n_context, 15)
    b_themes: np.ndarray | None = None
    temperature: float = 1.0
    platt_dissatisfied: tuple[float, float] = (1.0, 0.0)
    platt_themes: list[tuple[float, float]] = field(default_factory=list)
    theme_thresholds: list[float] = field(default_factory=list)
    complaint_threshold: float = 0.5
    stacker: ThemeStacker | None = None  # decides themes when set (config.theme_stacker)
    training_summary: dict[str, Any] = field(default_factory=dict)

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("oof_logits_", "words_")}

    # -- training ------------------------------------------------------------------------------
    def fit(self, examples: list[Example]) -> TriageModel:
        cfg = self.config
        feats = list(featurise(e.input for e in examples))
        self.vec_main = TfidfVectorizer(
            analyzer=identity, min_df=cfg.min_df, sublinear_tf=True, max_features=cfg.max_features, dtype=np.float32
        )
        self.vec_context = TfidfVectorizer(
            analyzer=identity, min_df=cfg.min_df, sublinear_tf=True, max_features=cfg.max_features // 3, dtype=np.float32
        )
        self.vec_chars = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=tuple(cfg.char_ngrams),
            min_df=cfg.min_df,
            sublinear_tf=True,
            max_features=cfg.max_features,
            dtype=np.float32,
        )
        x_words = self.vec_main.fit_transform([f.main for f in feats]).tocsr()
        x_chars = self.vec_chars.fit_transform([f.chars for f in feats]).tocsr()
        x_main = sparse.hstack([x_words, x_chars * cfg.char_weight], format="csr")
        x_ctx = self.vec_context.fit_transform([f.context or ["q_"] for f in feats]).tocsr()
        x_theme = sparse.hstack([x_main, x_ctx * cfg.context_weight], format="csr")

        y_kind = np.array([KINDS.index(e.kind) for e in examples])
        y_dis = np.array([int(e.dissatisfied) for e in examples])
        y_themes = np.array([[int(t in e.themes) for t in THEMES] for e in examples])
        w = np.array([e.weight for e in examples], dtype=np.float64)
        folds = list(StratifiedKFold(cfg.folds, shuffle=True, random_state=cfg.seed).split(x_main, y_kind))

        def head(c: float) -> LogisticRegression:
            return LogisticRegression(C=c, max_iter=3000, random_state=cfg.seed)

        # Out-of-fold scores for calibration and thresholds.
        oof_kind = np.zeros((len(examples), len(KINDS)))
        oof_dis = np.zeros(len(examples))
        oof_themes = np.zeros((len(examples), len(THEMES)))
        for train_idx, test_idx in folds:
            oof_kind[test_idx] = (
                head(cfg.c_kind)
                .fit(x_main[train_idx], y_kind[train_idx], sample_weight=w[train_idx])
                .decision_function(x_main[test_idx])
            )
            oof_dis[test_idx] = (
                head(cfg.c_dissatisfied)
                .fit(x_main[train_idx], y_dis[train_idx], sample_weight=w[train_idx])
                .decision_function(x_main[test_idx])
            )
            for k in range(len(THEMES)):
                y = y_themes[train_idx, k]
                if y.min() == y.max():
                    oof_themes[test_idx, k] = -10.0
                    continue
                model = head(cfg.c_themes).fit(x_theme[train_idx], y, sample_weight=w[train_idx])
                oof_themes[test_idx, k] = model.decision_function(x_theme[test_idx])

        # Kept for a cascade's second stage, which learns from these out-of-fold scores and word
        # counts; not saved.
        self.oof_logits_: np.ndarray | None = np.hstack([oof_kind, oof_dis[:, None], oof_themes])
        self.words_: np.ndarray | None = np.array([f.words for f in feats])
        self.temperature = _fit_temperature(oof_kind, y_kind)
        self.platt_dissatisfied = _fit_platt(oof_dis, y_dis)
        self.platt_themes = [_fit_platt(oof_themes[:, k], y_themes[:, k]) for k in range(len(THEMES))]
        p_kind = _softmax(oof_kind / self.temperature)
        self.complaint_threshold = self._choose_complaint_threshold(
            p_kind[:, KINDS.index("complaint")], y_kind == KINDS.index("complaint")
        )
        if cfg.theme_stacker:
            self.stacker = ThemeStacker.from_config(cfg)
            p_themes = self.stacker.fit(stack_features(self.oof_logits_, self.words_), y_themes, w, folds)
        else:
            p_themes = np.column_stack([_sigmoid(a * oof_themes[:, k] + b) for k, (a, b) in enumerate(self.platt_themes)])
        self.theme_thresholds = [self._choose_theme_threshold(p_themes[:, k], y_themes[:, k]) for k in range(len(THEMES))]

        # Final heads on all the training data, stacked for one-pass prediction.
        kind_model = head(cfg.c_kind).fit(x_main, y_kind, sample_weight=w)
        dis_model = head(cfg.c_dissatisfied).fit(x_main, y_dis, sample_weight=w)
        self.w_main = np.asfortranarray(np.vstack([kind_model.coef_, dis_model.coef_]).T.astype(np.float32))
        self.b_main = np.concatenate([kind_model.intercept_, dis_model.intercept_]).astype(np.float32)
        w_t, b_t = [], []
        for k in range(len(THEMES)):
            y = y_themes[:, k]
            if y.min() == y.max():
                w_t.append(np.zeros(x_theme.shape[1], dtype=np.float32))
                b_t.append(-10.0)
                continue
            m = head(cfg.c_themes).fit(x_theme, y, sample_weight=w)
            w_t.append(m.coef_[0].astype(np.float32))
            b_t.append(float(m.intercept_[0]))
        self.w_themes = np.asfortranarray(np.vstack(w_t).T)
        self.b_themes = np.array(b_t, dtype=np.float32)
        self.training_summary = {
            "examples": len(examples),
            "word_features": int(x_words.shape[1]),
            "char_features": int(x_chars.shape[1]),
            "context_features": int(x_ctx.shape[1]),
            "temperature": round(self.temperature, 4),
            "complaint_threshold": round(self.complaint_threshold, 4),
            "theme_thresholds": {t: round(v, 3) for t, v in zip(THEMES, self.theme_thresholds, strict=True)},
            "themes_decided_by": "boosted trees over all head scores" if self.stacker else "the theme heads (Platt-scaled)",
        }
        return self

    def _choose_complaint_threshold(self, p: np.ndarray, is_complaint: np.ndarray) -> float:
        """The highest threshold (0.05-0.50) whose out-of-fold complaint recall reaches the target."""
        total = is_complaint.sum()
        for t in np.arange(0.50, 0.045, -0.01):
            if total and ((p >= t) & is_complaint).sum() / total >= self.config.complaint_recall:
                return float(t)
        return 0.05

    def _choose_theme_threshold(self, p: np.ndarray, y: np.ndarray) -> float:
        cfg = self.config
        best_t, best_f = 0.5, -1.0
        for t in np.arange(cfg.theme_threshold_min, cfg.theme_threshold_max + 1e-9, 0.025):
            pred = p >= t
            tp = float((pred & (y == 1)).sum())
            f = 2 * tp / (pred.sum() + y.sum()) if (pred.sum() + y.sum()) else 0.0
            if f > best_f + 1e-9:
                best_t, best_f = float(t), f
        return best_t

    # -- prediction ----------------------------------------------------------------------------
    def logits(self, feats: list[Features]) -> np.ndarray:
        """Raw head scores, one row per message: 5 kinds, dissatisfied, 15 themes."""
        assert self.vec_main is not None and self.vec_context is not None and self.vec_chars is not None
        assert self.w_main is not None and self.w_themes is not None
        x_main = sparse.hstack(
            [
                self.vec_main.transform([f.main for f in feats]),
                self.vec_chars.transform([f.chars for f in feats]) * self.config.char_weight,
            ],
            format="csr",
        )
        x_ctx = self.vec_context.transform([f.context or ["q_"] for f in feats])
        z = np.asarray(x_main @ self.w_main) + self.b_main
        n_main = x_main.shape[1]
        zt = (
            np.asarray(x_main @ self.w_themes[:n_main])
            + self.config.context_weight * np.asarray(x_ctx @ self.w_themes[n_main:])
            + self.b_themes
        )
        return np.hstack([z, zt])

    def calibrate(self, logits: np.ndarray, words: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Calibrated (kind probabilities, dissatisfied probability, theme probabilities).
        ``words`` (each message's word count) is needed when a theme stacker decides themes."""
        n = len(KINDS)
        p_kind = _softmax(logits[:, :n] / self.temperature)
        a, b = self.platt_dissatisfied
        p_dis = _sigmoid(a * logits[:, n] + b)
        if self.stacker is not None:
            if words is None:
                raise ValueError("this model's themes read each message's word count: pass words to calibrate()")
            return p_kind, p_dis, self.stacker.probabilities(stack_features(logits, words))
        at = np.array([p[0] for p in self.platt_themes])
        bt = np.array([p[1] for p in self.platt_themes])
        p_themes = _sigmoid(at * logits[:, n + 1 :] + bt)
        return p_kind, p_dis, p_themes

    def scores(self, feats: list[Features]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Calibrated (kind probabilities, dissatisfied probability, theme probabilities)."""
        return self.calibrate(self.logits(feats), np.array([f.words for f in feats]))

    def decide_kind(self, p_kind: np.ndarray, complaint_threshold: float | np.ndarray | None = None) -> np.ndarray:
        complaint = KINDS.index("complaint")
        others = p_kind.copy()
        others[:, complaint] = -1.0
        threshold = self.complaint_threshold if complaint_threshold is None else complaint_threshold
        return np.where(p_kind[:, complaint] >= threshold, complaint, others.argmax(axis=1))

    def predict(self, items: list[TextInput]) -> list[Prediction]:
        if not items:
            return []
        feats = list(featurise(items))
        return self.predictions(items, feats, *self.scores(feats))

    def predictions(
        self,
        items: list[TextInput],
        feats: list[Features],
        p_kind: np.ndarray,
        p_dis: np.ndarray,
        p_themes: np.ndarray,
        decided_by: str = "tfidf",
        thresholds: tuple[float | np.ndarray, list[float]] | None = None,
    ) -> list[Prediction]:
        """Labels, status and review reasons from calibrated scores (``thresholds``: another
        head's complaint and theme thresholds, for a cascade's second stage)."""
        complaint_threshold, theme_thresholds = thresholds or (self.complaint_threshold, self.theme_thresholds)
        kinds = self.decide_kind(p_kind, complaint_threshold)
        out = []
        for i, (item, f) in enumerate(zip(items, feats, strict=True)):
            kind = KINDS[kinds[i]]
            themes = [t for k, t in enumerate(THEMES) if p_themes[i, k] >= theme_thresholds[k]]
            reasons = self._review_reasons(item, f, kind, p_kind[i], float(p_dis[i]))
            confidence = float(p_kind[i, kinds[i]])
            if reasons:
                status = "needs_review"
            elif confidence >= self.config.auto_accept:
                status = "accepted"
            else:
                status = "suggested"
            out.append(
                Prediction(
                    id=item.id,
                    kind=kind,
                    kind_scores={k: round(float(p_kind[i, j]), 4) for j, k in enumerate(KINDS)},
                    dissatisfied=bool(p_dis[i] >= 0.5),
                    dissatisfied_score=round(float(p_dis[i]), 4),
                    themes=themes,
                    theme_scores={t: round(float(p_themes[i, k]), 4) for k, t in enumerate(THEMES)},
                    needs_review=bool(reasons),
                    status=status,
                    review_reasons=reasons,
                    evidence=f.evidence,
                    decided_by=decided_by,
                )
            )
        return out

    def _review_reasons(self, item: TextInput, f: Features, kind: str, p_kind: np.ndarray, p_dis: float) -> list[str]:
        reasons = []
        text = item.subject + item.new
        junk = sum(1 for ch in text[:5000] if ch == "\ufffd" or (not ch.isprintable() and ch not in "\n\r\t"))
        if junk > 0.1 * max(1, min(len(text), 5000)):
            reasons.append("the text looks like binary data or a wrong character set")
        if f.words == 0:
            reasons.append("no text to classify: the message has no new text, quoted text or subject words")
            return reasons
        if len(item.new) > MAX_CHARS:
            reasons.append(f"very long text: only the first {MAX_CHARS:,} characters were read")
        known = self._known_share(f)
        if f.words >= 6 and known < 0.35:
            reasons.append(f"few known words ({known:.0%}): the message may not be in English")
        confidence = float(p_kind.max())
        if confidence < self.config.review_below:
            reasons.append(f"kind uncertain: {kind} at {confidence:.2f}")
        if (kind == "complaint" and p_dis < 0.5) or (kind in ("service_request", "compliment") and p_dis >= 0.5):
            reasons.append(f"kind {kind} and dissatisfaction {p_dis:.2f} disagree")
        elif 0.35 <= p_dis < 0.65:
            reasons.append(f"dissatisfaction uncertain ({p_dis:.2f})")
        return reasons

    def _known_share(self, f: Features) -> float:
        assert self.vec_main is not None
        vocab = self.vec_main.vocabulary_
        words = [t for t in f.main if t.isalpha()]
        return sum(1 for w in words if w in vocab) / len(words) if words else 1.0
