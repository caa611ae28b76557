import numpy as np

from inference.ml.experiments.scaling import SyntheticImages, run_scaling, scaling_table


def test_synthetic_training_images_are_drawn_on_demand_and_reproducibly():
    images = SyntheticImages(3, 32, seed=5)
    assert len(images) == 3 and images[1].shape == (32, 32)
    np.testing.assert_array_equal(images[2], SyntheticImages(3, 32, seed=5)[2])
    assert not np.array_equal(images[0], images[1])


def test_each_size_is_measured_in_its_own_process_with_the_bank_capped():
    params = {"image_size": 64, "batch_size": 8, "coreset_ratio": 1.0, "memory_bank_size": 300}
    results = run_scaling("patchcore", params, sizes=(2, 6), side=64, n_test=6)
    small, large = results["sizes"]
    assert (small["n_train"], large["n_train"]) == (2, 6)
    assert large["n_patches"] == 3 * small["n_patches"]
    assert small["memory_bank_size"] < 300 and large["memory_bank_size"] == 300
    assert all(row["peak_memory_mb"] > 50 and row["images_per_second"] > 0 for row in results["sizes"])
    assert results["speed_ratio"] == small["images_per_second"] / large["images_per_second"]
    assert "| 6 |" in scaling_table(results)
