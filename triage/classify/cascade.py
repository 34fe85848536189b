"""A cascade of two classifiers: the fast one decides the clear cases, the encoder-augmented one
the rest.

    message ─ featurise (spaCy, once) ─ fast model (tf-idf heads) ─┬─ clear ────────────────▶ labels
                                                                   └─ short, uncertain or ─ sentence encoder ─ encoder model ─▶ labels
                                                                      unfamiliar               (heads on the fast model's scores
                                                                                                + the embedding)

The sentence encoder costs about 10-40 ms of CPU per message (by length), the tf-idf model about
1 ms, so the encoder reads only what the fast model is unsure of, what is too short for word
counts to carry much, and what uses words it has rarely seen: the short, informal texts and the
third-person summaries it was built for. Each part is a unit with its own record: the encoder's
sidecar (``models/encoders/<name>/encoder.json``: name, version, licence, file hashes) and the
two models' summaries in the model sidecar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from triage.classify.data import Example, TextInput
from triage.classify.encoder import SentenceEncoder
from triage.classify.features import Features, _effective_text, featurise
from triage.classify.model import ModelConfig, Prediction, TriageModel, _fit_platt, _fit_temperature
from triage.classify.stacker import NeighbourVotes, ThemeStacker, stack_features
from triage.labels import KINDS, THEMES


@dataclass
class GateConfig:
    """When the fast model's answer is passed to the encoder model, and how that model reads
    (pipelines/train.toml [cascade.gate])."""

    short_words: int = 30  # fewer words than this in subject + new text: short
    confidence_below: float = 0.70  # fast kind confidence below this: uncertain
    dissatisfied_band: tuple[float, float] = (0.35, 0.65)  # fast dissatisfied score inside: uncertain
    complaint_band: tuple[float, float] = (0.25, 0.5)  # fast complaint probability inside: uncertain
    known_below: float = 0.70  # share of words in the fast model's vocabulary below this: unfamiliar
    max_tokens: int = 64  # encoder truncation (word pieces)
    embedding_weight: float = 1.0  # the embedding's weight beside the fast model's (standardised) scores
    c: float = 1.0  # inverse regularisation of the encoder model's heads
    complaint_floor: float = 0.2  # the encoder model calls a complaint only at this dissatisfied score or more
    general_c: float = 0.03  # inverse regularisation of the general dissatisfaction reading (embedding only)
    general_recall: float = 0.90  # its threshold: this out-of-fold recall of dissatisfaction; 0 turns it off
    general_known_below: float = 0.95  # it reads short messages with fewer known words than this
    general_train_words: int = 60  # it learns from messages with fewer words than this (it only reads short ones)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A model saved before a rule existed keeps the behaviour it was measured with (a rolled-
        # back version answers as it did when it was live), not the new rule's default.
        self.__dict__.update({"complaint_floor": 0.0, "general_recall": 0.0, **state})


def encoder_text(item: TextInput, max_chars: int = 1000) -> str:
    """What the encoder reads: the subject and the new text (as the kind heads do)."""
    new = _effective_text(item)[0]
    text = f"{item.subject}. {new}" if item.subject.strip() else new
    return " ".join(text[:max_chars].split())


@dataclass
class EncoderHeads:
    """The encoder model's heads. Reads: the fast model's 21 head scores (its tf-idf evidence,
    standardised) joined to the sentence embedding (times ``embedding_weight``). Writes: kind,
    dissatisfied and theme probabilities, calibrated out of fold like the fast model's, with
    their own complaint and theme thresholds. Trained on the fast model's *out-of-fold* scores,
    so it learns how far to trust them on messages the fast model has not seen."""

    gate: GateConfig
    mean_: np.ndarray | None = None
    scale_: np.ndarray | None = None
    w_: np.ndarray | None = None  # (21 + dim, 21)
    b_: np.ndarray | None = None
    calibration_: TriageModel | None = None  # holds temperature, Platt pairs and thresholds
    stacker_: ThemeStacker | None = None  # decides themes when the config asks (triage/classify/stacker.py)
    neighbours_: NeighbourVotes | None = None  # what the stacker reads beside the heads' scores

    def _x(self, logits: np.ndarray, emb: np.ndarray) -> np.ndarray:
        assert self.mean_ is not None and self.scale_ is not None
        return np.hstack([(logits - self.mean_) / self.scale_, emb * np.float32(self.gate.embedding_weight)]).astype(np.float32)

    def fit(
        self, fast: TriageModel, oof_logits: np.ndarray, emb: np.ndarray, examples: list[Example], words: np.ndarray
    ) -> EncoderHeads:
        cfg = fast.config
        self.mean_ = oof_logits.mean(axis=0)
        self.scale_ = np.maximum(oof_logits.std(axis=0), 1e-6)
        x = self._x(oof_logits, emb)
        n = len(KINDS)
        y_kind = np.array([KINDS.index(e.kind) for e in examples])
        y_dis = np.array([int(e.dissatisfied) for e in examples])
        y_themes = np.array([[int(t in e.themes) for t in THEMES] for e in examples])
        targets = [y_dis] + [y_themes[:, k] for k in range(len(THEMES))]
        weight = np.array([e.weight for e in examples], dtype=np.float64)  # staff reviews count more
        # Kind and dissatisfied read only the fast model's kind and dissatisfied scores (which read
        # only subject and new text) and the embedding, never the theme scores: those also read
        # the quoted thread, and a reply's quoted thread never decides its kind.
        own = np.r_[0 : n + 1, n + 1 + len(THEMES) : x.shape[1]]

        def fit_all(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            w = np.zeros((x.shape[1], n + 1 + len(THEMES)), dtype=np.float32)
            b = np.full(n + 1 + len(THEMES), -10.0, dtype=np.float32)
            lr = LogisticRegression(C=self.gate.c, max_iter=2000, random_state=cfg.seed).fit(
                x[np.ix_(rows, own)], y_kind[rows], sample_weight=weight[rows]
            )
            w[own, :n], b[:n] = lr.coef_.T, lr.intercept_
            for j, y in enumerate(targets, start=n):
                cols = own if j == n else np.arange(x.shape[1])
                if y[rows].min() != y[rows].max():
                    lr = LogisticRegression(C=self.gate.c, max_iter=2000, random_state=cfg.seed).fit(
                        x[np.ix_(rows, cols)], y[rows], sample_weight=weight[rows]
                    )
                    w[cols, j], b[j] = lr.coef_[0], lr.intercept_[0]
            return w, b

        oof = np.zeros((len(examples), n + 1 + len(THEMES)))
        folds = list(StratifiedKFold(cfg.folds, shuffle=True, random_state=cfg.seed).split(x, y_kind))
        for train_idx, test_idx in folds:
            w, b = fit_all(train_idx)
            oof[test_idx] = x[test_idx] @ w + b
        cal = TriageModel(cfg)
        cal.temperature = _fit_temperature(oof[:, :n], y_kind)
        cal.platt_dissatisfied = _fit_platt(oof[:, n], y_dis)
        cal.platt_themes = [_fit_platt(oof[:, n + 1 + k], y_themes[:, k]) for k in range(len(THEMES))]
        p_kind, _, p_themes = cal.calibrate(oof)
        if cfg.theme_stacker:
            labels = np.hstack([np.eye(n)[y_kind], y_dis[:, None], y_themes])
            self.neighbours_ = NeighbourVotes()
            votes = self.neighbours_.fit(emb, labels, folds)
            self.stacker_ = ThemeStacker.from_config(cfg)
            p_themes = self.stacker_.fit(stack_features(oof, words, votes), y_themes, weight, folds)
        cal.complaint_threshold = cal._choose_complaint_threshold(
            p_kind[:, KINDS.index("complaint")], y_kind == KINDS.index("complaint")
        )
        cal.theme_thresholds = [cal._choose_theme_threshold(p_themes[:, k], y_themes[:, k]) for k in range(len(THEMES))]
        self.calibration_ = cal
        self.w_, self.b_ = fit_all(np.arange(len(examples)))
        return self

    def scores(self, logits: np.ndarray, emb: np.ndarray, words: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        assert self.calibration_ is not None and self.w_ is not None
        z = self._x(logits, emb) @ self.w_ + self.b_
        p_kind, p_dis, p_themes = self.calibration_.calibrate(z)
        if self.stacker_ is not None and self.neighbours_ is not None:  # None in a model saved before them
            p_themes = self.stacker_.probabilities(stack_features(z, words, self.neighbours_.votes(emb)))
        return p_kind, p_dis, p_themes

    @property
    def thresholds(self) -> tuple[float, list[float]]:
        assert self.calibration_ is not None
        return self.calibration_.complaint_threshold, self.calibration_.theme_thresholds


@dataclass
class GeneralReading:
    """A second, general reading of dissatisfaction from the sentence embedding alone, for short
    messages in words the tf-idf model rarely saw (a tweet at the landlord's account, a one-line
    text). Strongly regularised, it keeps the broad direction "this person is unhappy with
    someone's service" rather than our corpus's wording, so it carries to text we did not write.
    It only ever adds: a message it reads as dissatisfied is marked dissatisfied and sent to
    review with the reason, which the flags turn into a possible ghost stage. Kind is left to
    the encoder model."""

    c: float
    recall: float
    w_: np.ndarray | None = None
    b_: float = 0.0
    threshold_: float = 1.0

    @staticmethod
    def target(examples: list[Example]) -> np.ndarray:
        """What it learns to find: a complaint, or any dissatisfaction."""
        return np.array([e.kind == "complaint" or e.dissatisfied for e in examples])

    def fit(self, emb: np.ndarray, examples: list[Example], seed: int, folds: int) -> GeneralReading:
        y = self.target(examples)
        weight = np.array([e.weight for e in examples], dtype=np.float64)
        oof = np.zeros(len(examples))
        for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=seed).split(emb, y):
            lr = LogisticRegression(C=self.c, max_iter=3000).fit(emb[train_idx], y[train_idx], sample_weight=weight[train_idx])
            oof[test_idx] = lr.predict_proba(emb[test_idx])[:, 1]
        self.threshold_ = float(np.quantile(oof[y], 1 - self.recall))
        lr = LogisticRegression(C=self.c, max_iter=3000).fit(emb, y, sample_weight=weight)
        self.w_, self.b_ = lr.coef_[0].astype(np.float32), float(lr.intercept_[0])
        return self

    def scores(self, emb: np.ndarray) -> np.ndarray:
        assert self.w_ is not None
        return 1.0 / (1.0 + np.exp(-(emb @ self.w_ + self.b_)))


@dataclass
class CascadeModel:
    config: ModelConfig
    gate: GateConfig
    encoder_name: str
    fast: TriageModel | None = None
    heads: EncoderHeads | None = None
    general: GeneralReading | None = None
    training_summary: dict[str, Any] = field(default_factory=dict)
    encoder: SentenceEncoder | None = field(default=None, repr=False)  # attached at load, never pickled

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["encoder"] = None
        return state

    def attach(self, encoder: SentenceEncoder) -> CascadeModel:
        encoder.tokenizer.enable_truncation(self.gate.max_tokens)
        self.encoder = encoder
        return self

    def embed(self, items: list[TextInput]) -> np.ndarray:
        if self.encoder is None:
            raise RuntimeError("the cascade's sentence encoder is not attached; load the model with triage.classify.service")
        return self.encoder.encode([encoder_text(i) for i in items])

    def fit(self, examples: list[Example], embeddings: np.ndarray | None = None) -> CascadeModel:
        self.fast = TriageModel(self.config).fit(examples)
        emb = self.embed([e.input for e in examples]) if embeddings is None else embeddings
        assert self.fast.oof_logits_ is not None and self.fast.words_ is not None
        with threadpool_limits(limits=1, user_api="blas"):  # small dense fits: extra BLAS threads only spin
            self.heads = EncoderHeads(self.gate).fit(self.fast, self.fast.oof_logits_, emb, examples, self.fast.words_)
            if self.gate.general_recall > 0:
                # It reads only short messages, so it learns from shortish ones: long letters taught
                # it our corpus's wording of dissatisfaction, not the one-liners it is for.
                rows = np.flatnonzero(self.fast.words_ < self.gate.general_train_words)
                y = GeneralReading.target([examples[i] for i in rows])
                if min(y.sum(), len(y) - y.sum()) < self.config.folds:  # too few short ones to learn from
                    rows = np.arange(len(examples))
                self.general = GeneralReading(self.gate.general_c, self.gate.general_recall).fit(
                    emb[rows], [examples[i] for i in rows], self.config.seed, self.config.folds
                )
        self.fast.oof_logits_, self.fast.words_ = None, None
        cal = self.heads.calibration_
        assert cal is not None
        self.training_summary = {
            **self.fast.training_summary,
            "encoder_model": {
                "inputs": f"{len(KINDS) + 1 + len(THEMES)} fast-model scores + {emb.shape[1]}-number embedding",
                "temperature": round(cal.temperature, 4),
                "complaint_threshold": round(cal.complaint_threshold, 4),
                "theme_thresholds": {t: round(v, 3) for t, v in zip(THEMES, cal.theme_thresholds, strict=True)},
                "themes_decided_by": "boosted trees over its head scores and the 15 nearest training messages"
                if self.heads.stacker_
                else "its theme heads (Platt-scaled)",
            },
        }
        if self.general is not None:
            self.training_summary["general_reading"] = {
                "threshold": round(self.general.threshold_, 4),
                "recall": self.general.recall,
                "trained_on": f"messages under {self.gate.general_train_words} words",
            }
        return self

    # -- prediction ----------------------------------------------------------------------------
    def route(self, feats: list[Features], p_kind: np.ndarray, p_dis: np.ndarray) -> np.ndarray:
        """True where the encoder model decides: short, uncertain or unfamiliar."""
        assert self.fast is not None
        g = self.gate
        words = np.array([f.words for f in feats])
        known = np.array([self.fast._known_share(f) for f in feats])
        p_c = p_kind[:, KINDS.index("complaint")]
        return (
            (words < g.short_words)
            | (p_kind.max(axis=1) < g.confidence_below)
            | ((p_dis > g.dissatisfied_band[0]) & (p_dis < g.dissatisfied_band[1]))
            | ((p_c > g.complaint_band[0]) & (p_c < g.complaint_band[1]))
            | (known < g.known_below)
        )

    def predict(self, items: list[TextInput]) -> list[Prediction]:
        if not items:
            return []
        assert self.fast is not None and self.heads is not None
        feats = list(featurise(items))
        logits = self.fast.logits(feats)
        words = np.array([f.words for f in feats])
        p_kind, p_dis, p_themes = self.fast.calibrate(logits, words)
        routed = self.route(feats, p_kind, p_dis)
        out = self.fast.predictions(items, feats, p_kind, p_dis, p_themes)
        idx = np.flatnonzero(routed)
        if len(idx):
            sub_items, sub_feats = [items[i] for i in idx], [feats[i] for i in idx]
            emb = self.embed(sub_items)
            p_kind2, p_dis2, p_themes2 = self.heads.scores(logits[idx], emb, words[idx])
            complaint_threshold, theme_thresholds = self.heads.thresholds
            # A complaint is always dissatisfied (GUIDE 4): below the floor the next kind is taken.
            per_row = np.where(p_dis2 >= self.gate.complaint_floor, complaint_threshold, np.inf)
            second = self.fast.predictions(
                sub_items, sub_feats, p_kind2, p_dis2, p_themes2, decided_by="encoder", thresholds=(per_row, theme_thresholds)
            )
            if self.general is not None:
                self._read_generally(second, sub_feats, emb)
            for i, p in zip(idx, second, strict=True):
                out[i] = p
        return out

    def _read_generally(self, predictions: list[Prediction], feats: list[Features], emb: np.ndarray) -> None:
        """Mark dissatisfied, for review, what the general reading finds and the encoder model missed."""
        assert self.general is not None and self.fast is not None
        g = self.gate
        general = self.general.scores(emb)
        for p, f, score in zip(predictions, feats, general, strict=True):
            if (
                p.dissatisfied
                or p.kind == "mp_enquiry"
                or score < self.general.threshold_
                or f.words >= g.short_words
                or self.fast._known_share(f) >= g.general_known_below
            ):
                continue
            p.dissatisfied = True
            p.needs_review, p.status = True, "needs_review"
            p.review_reasons.append(
                f"a general reading of the words finds dissatisfaction ({score:.2f}) that the housing model did not "
                f"({p.dissatisfied_score:.2f}): check whether this is a complaint"
            )
