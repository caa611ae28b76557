import numpy as np
import pytest

from inference.ml.experiments.selection import cross_validate, map_top_scores


def test_map_top_scores_are_means_of_the_highest_pixels():
    anomaly_map = np.arange(100, dtype=np.float32).reshape(10, 10)
    scores = map_top_scores([anomaly_map], fractions=(0.0, 0.05, 1.0))
    assert scores[0.0][0] == 99 and scores[0.05][0] == pytest.approx(97) and scores[1.0][0] == 49.5


def test_each_fold_is_scored_by_the_candidate_chosen_on_the_other_folds():
    rng = np.random.default_rng(0)
    labels = {name: np.arange(40) % 2 == 1 for name in ("a", "b")}
    # "good" separates both categories; "half" separates only "a"; "noise" separates neither.
    scores = {
        name: {
            "good": labels[name] + rng.normal(0, 0.1, 40),
            "half": (labels[name] if name == "a" else 0) + rng.normal(0, 0.1, 40),
            "noise": rng.normal(0, 1, 40),
        }
        for name in labels
    }
    result = cross_validate(scores, labels, n_folds=2, seed=1)
    assert result["chosen"] == ["good", "good"] and result["overall"] == "good"
    assert result["cross_validated"]["b"] == pytest.approx(1.0)
    assert result["in_sample"]["half"]["a"] == pytest.approx(1.0) and result["in_sample"]["half"]["b"] < 0.8
