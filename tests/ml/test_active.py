"""The review order of each active-learning strategy, on cases worked by hand."""

import numpy as np
import pytest

from inference.ml.active import UNKNOWN, informativeness, map_descriptor, review_order

SCORES = np.array([0.1, 0.48, 0.95, 0.55, 0.7])


def test_uncertainty_puts_the_threshold_first():
    assert review_order("uncertainty", SCORES).tolist() == [1, 3, 4, 0, 2]


def test_highest_puts_the_worst_looking_first():
    assert review_order("highest", SCORES).tolist() == [2, 4, 3, 1, 0]


def test_random_is_a_seeded_permutation():
    first = review_order("random", SCORES, seed=3)

    assert sorted(first.tolist()) == [0, 1, 2, 3, 4]
    assert first.tolist() == review_order("random", SCORES, seed=3).tolist()


def test_disagreeing_with_a_person_and_novelty_add_to_what_a_label_teaches():
    labels = np.array([1, UNKNOWN, 1, 0, UNKNOWN])  # image 0 is called normal by the model: disagreement
    gain = informativeness(SCORES, labels)

    assert gain[0] == pytest.approx(1 - 0.8 + 1)
    assert gain[2] == pytest.approx(1 - 0.9)  # agrees
    assert gain[3] == pytest.approx(1 - 0.1 + 1)  # model says defective, the person normal
    novel = informativeness(SCORES, novelty=np.array([0, 0, 0, 0, 10.0]))
    assert novel[4] - informativeness(SCORES)[4] == pytest.approx(1.0)


def test_active_spreads_the_queue_over_near_duplicates():
    # Four near-identical uncertain images and one different, slightly less uncertain one.
    scores = np.array([0.5, 0.5, 0.5, 0.5, 0.45])
    embeddings = np.array([[0, 0], [0.01, 0], [0, 0.01], [0.01, 0.01], [5, 5]], np.float32)

    plain = review_order("active", scores)
    spread = review_order("active", scores, embeddings=embeddings)

    assert plain[-1] == 4  # by informativeness alone it comes last
    assert spread[1] == 4  # among its near-duplicates' first pick, it comes second
    assert sorted(spread.tolist()) == [0, 1, 2, 3, 4]


def test_wrong_inputs_are_refused():
    with pytest.raises(ValueError, match="unknown strategy"):
        review_order("smart", SCORES)
    with pytest.raises(ValueError, match="labels has 2 rows"):
        review_order("active", SCORES, labels=[0, 1])


def test_a_map_descriptor_pools_where_the_model_objects():
    anomaly_map = np.zeros((16, 32), np.float32)
    anomaly_map[:8, 16:] = 4.0  # the top-right quarter, at the top of the range

    descriptor = map_descriptor(anomaly_map, low=0.0, high=4.0, side=2)

    assert descriptor.tolist() == [0.0, 1.0, 0.0, 0.0]
