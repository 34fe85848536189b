"""Theme decisions that read every head's score at once, and the nearest written examples.

The theme heads are fifteen separate linear models, each reading the words for itself: "told",
"letter" and "refused" lift ``communication`` whether the message is about a broken promise or
about an allocations decision it explains. A second stage of boosted trees per theme reads all
21 head scores (kinds, dissatisfied, themes) and the message's length together, so it can learn
how the themes go with one another and with the kind of message. Like the encoder model it is
trained on the heads' *out-of-fold* scores, and its own thresholds are chosen on its own
out-of-fold probabilities.

For the messages the encoder model reads, it also gets ``NeighbourVotes``: the labels of the
15 training messages nearest in the sentence encoder's space, weighted by similarity. The
embedding is already computed for those messages, so the votes cost one small matrix product.

Both were chosen on the out-of-domain sets (README, "Themes"): on the dev split, drawn from the
same files as training, they change themes by -0.001 to +0.006.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier


def stack_features(logits: np.ndarray, words: np.ndarray, *more: np.ndarray) -> np.ndarray:
    """What the stacker reads: the heads' raw scores, log word count, and any extra columns."""
    return np.hstack([logits, np.log1p(np.asarray(words, dtype=np.float64))[:, None], *more])


@dataclass
class _Trees:
    """Every tree of every theme's classifier as flat arrays, walked for all of them at once.

    scikit-learn walks one tree at a time, each in its own thread pool: about 1.5 ms a theme
    however few the rows, 22 ms for one message's fifteen themes. Walking all 3,000 trees
    together in numpy takes under 1 ms for a few rows; for a batch scikit-learn's own loop is
    faster, so this is used for small batches only (``SMALL_BATCH``)."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    leaf: np.ndarray
    value: np.ndarray
    roots: np.ndarray  # first node of each tree
    starts: np.ndarray  # first tree of each theme's classifier
    baseline: np.ndarray  # each classifier's starting score
    depth: int
    n_features: int

    @classmethod
    def of(cls, models: list[Any]) -> _Trees | None:
        """Flattened trees, or None where a model is not the plain binary kind this reads."""
        parts, roots, starts, baseline, offset, depth = [], [], [], [], 0, 0
        for model in models:
            predictors = getattr(model, "_predictors", None)
            if predictors is None or getattr(model, "is_categorical_", None) is not None or model.n_trees_per_iteration_ != 1:
                return None
            starts.append(len(roots))
            baseline.append(float(np.ravel(model._baseline_prediction)[0]))
            for (tree,) in predictors:
                nodes = tree.nodes
                parts.append((nodes, offset))
                roots.append(offset)
                offset += len(nodes)
                depth = max(depth, int(nodes["depth"].max()))
        nodes = np.concatenate([n for n, _ in parts])
        shift = np.concatenate([np.full(len(n), o, dtype=np.int64) for n, o in parts])
        return cls(
            feature=nodes["feature_idx"].astype(np.int64),
            threshold=nodes["num_threshold"].astype(np.float64),
            left=nodes["left"].astype(np.int64) + shift,
            right=nodes["right"].astype(np.int64) + shift,
            leaf=nodes["is_leaf"].astype(bool),
            value=nodes["value"].astype(np.float64),
            roots=np.array(roots, dtype=np.int64),
            starts=np.array(starts, dtype=np.int64),
            baseline=np.array(baseline),
            depth=depth,
            n_features=int(models[0].n_features_in_),
        )

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        if x.shape[1] != self.n_features:
            raise ValueError(f"the theme trees read {self.n_features} numbers a message, got {x.shape[1]}")
        node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        rows = np.arange(len(x))[:, None]
        for _ in range(self.depth):
            at_leaf = self.leaf[node]
            if at_leaf.all():
                break
            go_left = x[rows, self.feature[node]] <= self.threshold[node]
            node = np.where(at_leaf, node, np.where(go_left, self.left[node], self.right[node]))
        raw = np.add.reduceat(self.value[node], self.starts, axis=1) + self.baseline
        return 1.0 / (1.0 + np.exp(-raw))


SMALL_BATCH = 16  # rows up to which the flattened trees are walked instead of scikit-learn's


@dataclass
class _Packed:
    """A fitted classifier as pickled: its trees' nodes in one array instead of 200 trees' own.

    Unpickling 6,000 trees' three arrays each took 0.2 s of a model's load; one array per
    classifier takes a few milliseconds, and the trees are views into it again after loading."""

    model: Any  # the classifier with ``_predictors`` removed
    nodes: np.ndarray  # every tree's nodes, one after another
    sizes: np.ndarray  # nodes per tree
    no_bitsets: np.ndarray  # the empty bitset array every tree had (no categorical splits)

    @classmethod
    def of(cls, model: Any) -> Any:
        """The packed form, or the model itself where its trees are not the plain kind."""
        predictors = getattr(model, "_predictors", None)
        if not predictors or any(len(trees) != 1 for trees in predictors):
            return model
        trees = [trees[0] for trees in predictors]
        if any(t.binned_left_cat_bitsets.size or t.raw_left_cat_bitsets.size for t in trees):
            return model
        bare = copy.copy(model)
        del bare._predictors
        return cls(
            bare,
            np.concatenate([t.nodes for t in trees]),
            np.array([len(t.nodes) for t in trees], dtype=np.int64),
            trees[0].raw_left_cat_bitsets,
        )

    def unpack(self) -> Any:
        from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
        from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor

        nodes = self.nodes
        if nodes.dtype != PREDICTOR_RECORD_DTYPE:  # saved where np.intp differs, as scikit-learn's own trees allow
            nodes = nodes.astype(PREDICTOR_RECORD_DTYPE, casting="same_kind")
        trees = np.split(nodes, np.cumsum(self.sizes)[:-1])  # views, not copies
        self.model._predictors = [[TreePredictor(nodes, self.no_bitsets, self.no_bitsets)] for nodes in trees]
        return self.model


@dataclass
class ThemeStacker:
    """One boosted-tree classifier per theme over :func:`stack_features`."""

    iterations: int
    learning_rate: float
    leaves: int
    seed: int
    models_: list[Any] = field(default_factory=list)  # per theme: a fitted classifier, or a constant probability
    _trees: _Trees | bool | None = field(default=False, repr=False)  # flattened at first use; False: not yet

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_trees": False, "models_": [_Packed.of(m) for m in self.models_]}

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["models_"] = [m.unpack() if isinstance(m, _Packed) else m for m in state["models_"]]
        self.__dict__.update(state)

    @classmethod
    def from_config(cls, config: Any) -> ThemeStacker:
        """The stacker a ModelConfig (``stacker_*`` and ``seed``) describes."""
        return cls(config.stacker_iterations, config.stacker_learning_rate, config.stacker_leaves, config.seed)

    def _fit_one(self, x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> Any:
        if y.min() == y.max():
            return float(y[0])
        model = HistGradientBoostingClassifier(
            max_iter=self.iterations,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.leaves,
            early_stopping=False,  # the default turns it on above 10,000 rows, with a random split
            random_state=self.seed,
        )
        # Equal weights (no staff reviews, or all of one weight) are left out: with any weights
        # scikit-learn takes a general path five times slower, for the same trees.
        return model.fit(x, y, sample_weight=None if np.all(weight == weight[0]) else weight)

    @staticmethod
    def _predict_one(model: Any, x: np.ndarray) -> np.ndarray:
        if isinstance(model, float):
            return np.full(len(x), model)
        return model.predict_proba(x)[:, 1]

    def fit(
        self, x: np.ndarray, y_themes: np.ndarray, weight: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]]
    ) -> np.ndarray:
        """Fit on all rows; return out-of-fold probabilities (rows x themes) for thresholds."""
        oof = np.zeros(y_themes.shape)
        self.models_, self._trees = [], False
        for k in range(y_themes.shape[1]):
            y = y_themes[:, k]
            for train_idx, test_idx in folds:
                oof[test_idx, k] = self._predict_one(self._fit_one(x[train_idx], y[train_idx], weight[train_idx]), x[test_idx])
            self.models_.append(self._fit_one(x, y, weight))
        return oof

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        if len(x) <= SMALL_BATCH and np.isfinite(x).all():
            if self._trees is False:
                fitted = [m for m in self.models_ if not isinstance(m, float)]
                self._trees = _Trees.of(fitted) if fitted else None
            if isinstance(self._trees, _Trees):
                fitted_p = self._trees.probabilities(x)
                out, j = np.empty((len(x), len(self.models_))), 0
                for k, m in enumerate(self.models_):
                    if isinstance(m, float):
                        out[:, k] = m
                    else:
                        out[:, k], j = fitted_p[:, j], j + 1
                return out
        return np.column_stack([self._predict_one(m, x) for m in self.models_])


@dataclass
class NeighbourVotes:
    """The labels of a message's nearest training messages in the sentence encoder's space.

    Gives, per label (5 kinds, dissatisfied, 15 themes), the similarity-weighted share of the
    ``k`` nearest training messages that carry it, then the nearest and mean similarity (how
    familiar the message is).

    Similarities and votes are rounded to ``DECIMALS`` places: a matrix product's last bits
    depend on how many messages share the batch, and trees split on exact values (a share of
    0.99999988 or 1.00000024 where every neighbour agrees), so unrounded votes let one message
    score differently alone and in a batch."""

    k: int = 15
    vectors_: np.ndarray | None = None  # unit-length training embeddings, float16 (half the model file)
    labels_: np.ndarray | None = None  # (rows, labels) 0/1
    _unpacked: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)  # float copies, made at first use

    DECIMALS = 4

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_unpacked": None}

    @staticmethod
    def _unit(emb: np.ndarray) -> np.ndarray:
        return (emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-9)).astype(np.float32)

    def _votes(self, query: np.ndarray, vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
        out = np.zeros((len(query), labels.shape[1] + 2))
        k = min(self.k, len(vectors))  # a message is never its own neighbour: training votes come from other folds
        if k == 0 or len(query) == 0:
            return out
        sim = np.round((query @ vectors.T).astype(np.float64), self.DECIMALS)
        idx = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        near = np.maximum(np.take_along_axis(sim, idx, axis=1), 0.0)
        total = near.sum(axis=1, keepdims=True)
        weight = np.divide(near, total, out=np.zeros_like(near), where=total > 0)
        out[:, :-2] = np.einsum("nk,nkj->nj", weight, labels[idx])
        out[:, -2], out[:, -1] = near.max(axis=1), near.mean(axis=1)
        return np.round(out, self.DECIMALS)

    def fit(self, emb: np.ndarray, labels: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Keep the training messages; return each one's votes from the other folds (for training),
        read from the same float16-rounded vectors that prediction reads."""
        unit = self._unit(emb).astype(np.float16)
        vectors = unit.astype(np.float32)
        labels = labels.astype(np.float64)
        oof = np.zeros((len(emb), labels.shape[1] + 2))
        for train_idx, test_idx in folds:
            oof[test_idx] = self._votes(vectors[test_idx], vectors[train_idx], labels[train_idx])
        self.vectors_, self.labels_, self._unpacked = unit, labels.astype(np.uint8), None
        return oof

    def votes(self, emb: np.ndarray) -> np.ndarray:
        assert self.vectors_ is not None and self.labels_ is not None
        if self._unpacked is None:
            self._unpacked = self.vectors_.astype(np.float32), self.labels_.astype(np.float64)
        return self._votes(self._unit(emb), *self._unpacked)
