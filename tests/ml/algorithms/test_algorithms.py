import json

import numpy as np
import pytest

from inference.ml.algorithms import get_algorithm, load_algorithm
from inference.ml.metrics import evaluate


@pytest.mark.parametrize("name", ["patchcore", "padim"])
def test_synthetic_defects_are_detected_and_localised(name, synthetic_category, small_params):
    model = get_algorithm(name, device="cpu", **small_params())
    calls = []
    report = model.fit(synthetic_category["train"], progress=lambda *args: calls.append(args))
    assert report.n_images == 16 and report.seconds > 0
    assert calls[-1][0] in ("features", "coreset") and ("features", 16, 16) in calls
    predictions = model.predict(synthetic_category["test"])
    assert predictions.scores.shape == (24,)
    assert all(m.shape == (96, 96) for m in predictions.anomaly_maps)
    quality = evaluate(
        predictions.scores,
        np.array(synthetic_category["labels"]),
        predictions.anomaly_maps,
        synthetic_category["masks"],
    )
    assert quality["image_auroc"] > 0.95
    assert quality["pixel_auroc"] > 0.9


def test_patchcore_save_load_round_trip_gives_identical_scores(tmp_path, synthetic_category, small_params):
    model = get_algorithm("patchcore", device="cpu", **small_params(coreset_ratio=0.1))
    model.fit(synthetic_category["train"])
    before = model.predict(synthetic_category["test"][:6])
    paths = model.save(tmp_path / "model")
    assert sorted(p.name for p in paths) == ["model.json", "model.safetensors"]
    loaded = load_algorithm(tmp_path / "model", device="cpu")
    after = loaded.predict(synthetic_category["test"][:6])
    np.testing.assert_array_equal(before.scores, after.scores)
    for a, b in zip(before.anomaly_maps, after.anomaly_maps, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(before.nearest_normal, after.nearest_normal)


def _top_mean(anomaly_map, fraction):
    values = np.sort(anomaly_map.ravel())[::-1]
    return values[: max(1, int(values.size * fraction))].mean()


@pytest.mark.parametrize("image_score", ["map_max", "map_top"])
def test_patchcore_image_score_round_trips_through_save_and_load(
    tmp_path, synthetic_category, small_params, image_score
):
    params = small_params(coreset_ratio=0.1, image_score=image_score, map_top_fraction=0.05)
    model = get_algorithm("patchcore", device="cpu", **params)
    model.fit(synthetic_category["train"][:4])
    before = model.predict(synthetic_category["test"][:4])
    fraction = 0.05 if image_score == "map_top" else 0.0
    expected = [_top_mean(m, fraction) for m in before.anomaly_maps]
    np.testing.assert_allclose(before.scores, expected, rtol=1e-5)
    model.save(tmp_path / "model")
    saved = json.loads((tmp_path / "model" / "model.json").read_text())["params"]
    assert (saved["image_score"], saved["map_top_fraction"]) == (image_score, 0.05)
    loaded = load_algorithm(tmp_path / "model", device="cpu")
    assert (loaded.params.image_score, loaded.params.map_top_fraction) == (image_score, 0.05)
    np.testing.assert_array_equal(before.scores, loaded.predict(synthetic_category["test"][:4]).scores)

    # A model saved before the parameter existed keeps the re-weighted score it was saved with.
    document = json.loads((tmp_path / "model" / "model.json").read_text())
    del document["params"]["image_score"]
    (tmp_path / "model" / "model.json").write_text(json.dumps(document))
    assert load_algorithm(tmp_path / "model", device="cpu").params.image_score == "reweighted"

    with pytest.raises(ValueError, match="image_score"):
        get_algorithm("patchcore", image_score="mean")
    with pytest.raises(ValueError, match="map_top_fraction"):
        get_algorithm("patchcore", map_top_fraction=0)


def test_padim_save_load_round_trip(tmp_path, synthetic_category, small_params):
    model = get_algorithm("padim", device="cpu", **small_params(n_features=32))
    model.fit(synthetic_category["train"][:4])
    model.save(tmp_path)
    before = model.predict(synthetic_category["test"][:2])
    after = load_algorithm(tmp_path, device="cpu").predict(synthetic_category["test"][:2])
    np.testing.assert_array_equal(before.scores, after.scores)


def test_fitting_is_deterministic_under_a_seed(synthetic_category, small_params):
    banks = []
    for _ in range(2):
        model = get_algorithm("patchcore", device="cpu", **small_params(coreset_ratio=0.05, seed=3))
        model.fit(synthetic_category["train"][:6])
        banks.append(model.state_tensors()["memory_bank"])
    assert banks[0].equal(banks[1])


def test_images_of_other_sizes_get_maps_of_their_size(synthetic_category, small_params):
    model = get_algorithm("patchcore", device="cpu", **small_params(coreset_ratio=0.1))
    model.fit(synthetic_category["train"][:4])
    odd = [synthetic_category["test"][1][:50, :90], np.tile(synthetic_category["test"][0], (2, 3))]
    predictions = model.predict(odd)
    assert [m.shape for m in predictions.anomaly_maps] == [(50, 90), (192, 288)]


def test_registry_and_file_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown algorithm"):
        get_algorithm("fastflow")
    with pytest.raises(ValueError, match="unknown parameters"):
        get_algorithm("patchcore", coreset=0.1)
    with pytest.raises(RuntimeError, match="not fitted"):
        get_algorithm("patchcore", device="cpu").predict([np.zeros((32, 32), np.uint8)])
    with pytest.raises(FileNotFoundError, match="model.json"):
        load_algorithm(tmp_path)
    (tmp_path / "model.json").write_text('{"format": "pickle"}')
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ValueError, match="not a loupe-anomaly-model"):
        load_algorithm(tmp_path)


def test_patchcore_streams_its_patches_into_a_bank_of_at_most_memory_bank_size(
    synthetic_category, small_params
):
    # 16 images of 96 px give 16 * 144 patches; chunks of 300 make the coreset reduce as they stream.
    params = small_params(coreset_ratio=0.5, memory_bank_size=100, coreset_chunk=300)
    model = get_algorithm("patchcore", device="cpu", **params)
    report = model.fit(synthetic_category["train"])
    assert report.n_patches == 16 * 144
    assert len(model.memory_bank) == report.details["memory_bank_size"] == 100
    # Each training image keeps entries in the bank: the picks cover the whole set, not the last chunk.
    assert set(model.bank_sources.tolist()) == set(range(16))
    predictions = model.predict(synthetic_category["test"])
    quality = evaluate(predictions.scores, np.array(synthetic_category["labels"]))
    assert quality["image_auroc"] > 0.95


def test_peak_or_mean_scores_the_peak_or_the_mean_on_the_peaks_scale(
    tmp_path, synthetic_category, small_params
):
    model = get_algorithm("patchcore", device="cpu", **small_params())
    assert model.params.image_score == "peak_or_mean"
    model.fit(synthetic_category["train"][:8])
    peak_mean, peak_std, level_mean, level_std = model.score_statistics.tolist()
    assert peak_std > 0 and level_std > 0 and peak_mean > level_mean
    predictions = model.predict(synthetic_category["test"][:6])
    for score, anomaly_map in zip(predictions.scores, predictions.anomaly_maps, strict=True):
        level = peak_mean + peak_std * (anomaly_map.mean() - level_mean) / level_std
        assert score == pytest.approx(max(anomaly_map.max(), level), rel=1e-5)
    model.save(tmp_path / "model")
    loaded = load_algorithm(tmp_path / "model", device="cpu")
    np.testing.assert_array_equal(loaded.predict(synthetic_category["test"][:6]).scores, predictions.scores)


def test_normal_statistics_come_from_images_scored_without_their_own_bank_entries(
    synthetic_category, small_params
):
    # With every patch in the bank, an image scored against its own entries has a map of almost
    # nothing; held out, its peak is that of a new normal image.
    model = get_algorithm("patchcore", device="cpu", **small_params(coreset_ratio=1.0))
    model.fit(synthetic_category["train"][:4])
    own = [model.predict([image]).anomaly_maps[0].max() for image in synthetic_category["train"][:4]]
    new = [m.max() for m in model.predict(synthetic_category["train"][4:8]).anomaly_maps]
    assert model.score_statistics[0] > 3 * max(own)
    assert model.score_statistics[0] == pytest.approx(np.mean(new), rel=0.5)


@pytest.mark.parametrize("algorithm", ["patchcore", "padim"])
def test_a_model_saved_before_the_padded_average_keeps_the_features_it_was_fitted_with(
    tmp_path, synthetic_category, small_params, algorithm
):
    old = get_algorithm(algorithm, device="cpu", **small_params(aggregate_include_pad=False))
    old.fit(synthetic_category["train"][:4])
    expected = old.predict(synthetic_category["test"][:2]).scores
    old.save(tmp_path)
    document = json.loads((tmp_path / "model.json").read_text())
    del document["params"]["aggregate_include_pad"]
    (tmp_path / "model.json").write_text(json.dumps(document))

    loaded = load_algorithm(tmp_path, device="cpu")
    assert loaded.params.aggregate_include_pad is False
    np.testing.assert_allclose(loaded.predict(synthetic_category["test"][:2]).scores, expected, rtol=1e-6)
    # New models count the padding, as PatchCore's reference code does: different features at the edge.
    assert get_algorithm(algorithm).params.aggregate_include_pad is True
