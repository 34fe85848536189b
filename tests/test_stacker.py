"""The theme stacker and the nearest-example votes (triage/classify/stacker.py), on synthetic data
where the right answer is known."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold

from triage.classify.stacker import SMALL_BATCH, NeighbourVotes, ThemeStacker, _Packed, stack_features


def _folds(y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    return list(StratifiedKFold(3, shuffle=True, random_state=13).split(y, y))


def test_the_stacker_learns_a_theme_that_depends_on_two_scores_together() -> None:
    # Theme 0 is present only when both of the first two scores are high: no single score's
    # threshold finds it, boosted trees over both do. Theme 1 never occurs in training.
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(600, 4))
    y = np.column_stack([(logits[:, 0] > 0) & (logits[:, 1] > 0), np.zeros(600, dtype=bool)]).astype(int)
    x = stack_features(logits, rng.integers(1, 200, size=600))
    assert x.shape == (600, 5)
    stacker = ThemeStacker(iterations=60, learning_rate=0.1, leaves=7, seed=13)
    oof = stacker.fit(x, y, np.ones(600), _folds(y[:, 0]))
    assert oof.shape == (600, 2) and np.all(oof[:, 1] == 0.0)  # a theme never seen is never given
    assert ((oof[:, 0] >= 0.5) == y[:, 0]).mean() > 0.9  # out of fold, so this is not memorised
    fresh = rng.normal(size=(200, 4))
    truth = (fresh[:, 0] > 0) & (fresh[:, 1] > 0)
    p = stacker.probabilities(stack_features(fresh, np.full(200, 50)))
    assert ((p[:, 0] >= 0.5) == truth).mean() > 0.9
    again = ThemeStacker(iterations=60, learning_rate=0.1, leaves=7, seed=13)
    again.fit(x, y, np.ones(600), _folds(y[:, 0]))
    assert np.array_equal(again.probabilities(x), stacker.probabilities(x))  # deterministic


def test_neighbour_votes_share_the_labels_of_the_nearest_examples_and_pickle_small() -> None:
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(2, 16))
    group = np.repeat([0, 1], 50)
    emb = centres[group] + 0.05 * rng.normal(size=(100, 16))
    labels = np.column_stack([group == 0, group == 1]).astype(int)
    votes = NeighbourVotes(k=5)
    oof = votes.fit(emb, labels, _folds(group))
    assert oof.shape == (100, 4)  # 2 label shares + nearest and mean similarity
    assert np.allclose(oof[:, 0], group == 0, atol=1e-6) and np.all(oof[:, 2] > 0.9)
    query = centres[[1]] + 0.05 * rng.normal(size=(1, 16))
    assert votes.votes(query)[0, 1] > 0.99
    assert votes._unpacked is not None
    restored = pickle.loads(pickle.dumps(votes))
    assert restored._unpacked is None and restored.vectors_.dtype == np.float16  # the float32 copy is not saved
    assert np.allclose(restored.votes(query), votes.votes(query))


def test_small_batches_walk_the_flattened_trees_and_get_scikit_learns_answers() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(400, 6))
    y = np.column_stack([x[:, 0] * x[:, 1] > 0, x[:, 2] > 1.0, np.zeros(400, dtype=bool)]).astype(int)
    stacker = ThemeStacker(iterations=30, learning_rate=0.2, leaves=9, seed=13)
    stacker.fit(x, y, np.ones(400), _folds(y[:, 0]))
    fresh = rng.normal(size=(SMALL_BATCH, 6)) * 2
    walked = stacker.probabilities(fresh)
    assert stacker._trees is not False and stacker._trees is not None  # the small-batch path was taken
    by_sklearn = np.column_stack([stacker._predict_one(m, fresh) for m in stacker.models_])
    assert np.allclose(walked, by_sklearn, rtol=0, atol=1e-12)
    assert np.array_equal(stacker.probabilities(fresh[:1]), walked[:1])  # one row alone: the same
    restored = pickle.loads(pickle.dumps(stacker))
    assert restored._trees is False and np.array_equal(restored.probabilities(fresh), walked)


def test_a_pickled_stacker_keeps_its_trees_in_one_array_and_answers_the_same() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(300, 4))
    y = np.column_stack([x[:, 0] + x[:, 1] > 0.5, np.zeros(300, dtype=bool)]).astype(int)
    stacker = ThemeStacker(iterations=25, learning_rate=0.2, leaves=7, seed=13)
    stacker.fit(x, y, np.ones(300), _folds(y[:, 0]))
    state = stacker.__getstate__()
    packed = state["models_"][0]
    assert isinstance(packed, _Packed) and packed.sizes.sum() == len(packed.nodes) and len(packed.sizes) == 25
    assert state["models_"][1] == 0.0  # a constant theme is kept as it is
    assert len(stacker.models_[0]._predictors) == 25  # the live classifier keeps its trees
    restored = pickle.loads(pickle.dumps(stacker))
    trees = restored.models_[0]._predictors
    one = trees[0][0].nodes.base
    assert one is not None and all(t[0].nodes.base is one for t in trees)  # views of one array, not copies
    fresh = rng.normal(size=(SMALL_BATCH * 4, 4))  # above SMALL_BATCH: scikit-learn's own predict
    assert np.array_equal(restored.probabilities(fresh), stacker.probabilities(fresh))
    assert np.array_equal(restored.probabilities(fresh[:3]), stacker.probabilities(fresh[:3]))
    # A stacker pickled before the packing (its classifiers' own trees in the state) loads as it was.
    older = ThemeStacker.__new__(ThemeStacker)
    older.__setstate__({**stacker.__dict__, "_trees": False})
    assert np.array_equal(older.probabilities(fresh), stacker.probabilities(fresh))


def test_a_value_exactly_on_a_split_goes_the_way_scikit_learn_sends_it() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 3))
    y = np.column_stack([x[:, 0] > 0.2]).astype(int)
    stacker = ThemeStacker(iterations=5, learning_rate=0.5, leaves=3, seed=13)
    stacker.fit(x, y, np.ones(300), _folds(y[:, 0]))
    root = stacker.models_[0]._predictors[0][0].nodes[0]
    on_split = rng.normal(size=(4, 3))
    on_split[:, root["feature_idx"]] = root["num_threshold"]
    by_sklearn = stacker._predict_one(stacker.models_[0], on_split)
    assert np.allclose(stacker.probabilities(on_split)[:, 0], by_sklearn, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="read 3 numbers a message, got 4"):
        stacker.probabilities(np.zeros((1, 4)))


def test_neighbour_votes_from_tiny_folds_and_the_same_alone_as_in_a_batch() -> None:
    rng = np.random.default_rng(4)
    emb = rng.normal(size=(2, 8))
    labels = np.array([[1, 0], [0, 1]])
    oof = NeighbourVotes().fit(emb, labels, [(np.array([0]), np.array([1])), (np.array([1]), np.array([0]))])
    assert oof[0, 1] == 1.0 and oof[1, 0] == 1.0  # each one's only neighbour is the other
    votes = NeighbourVotes()
    votes.fit(rng.normal(size=(500, 32)), rng.integers(0, 2, size=(500, 3)), [(np.arange(250), np.arange(250, 500))])
    queries = rng.normal(size=(64, 32))
    batch = votes.votes(queries)
    alone = np.vstack([votes.votes(queries[[i]]) for i in range(64)])
    # Rounded to 4 places, so a matrix product's last bits (which depend on the batch) move a vote
    # by one last place at most, and only where they straddle a rounding boundary.
    assert np.abs(batch - alone).max() <= 2e-4
    assert votes.votes(queries[:0]).shape == (0, 5)
