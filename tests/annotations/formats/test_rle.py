"""COCO's and CVAT's run-length encodings, against values worked out by hand from the formats'
descriptions, and COCO's against the COCO API itself (pycocotools)."""

import numpy as np
import pytest

from annotations.formats import rle


def test_coco_counts_run_down_the_columns_starting_with_zeros():
    mask = np.array([[0, 1, 0], [0, 1, 1]], dtype=bool)
    # Column-major: (0,0)=0 (1,0)=0 | (0,1)=1 (1,1)=1 | (0,2)=0 (1,2)=1
    assert rle.coco_encode(mask) == [2, 2, 1, 1]
    assert (rle.coco_decode([2, 2, 1, 1], height=2, width=3) == mask).all()
    assert rle.coco_encode(np.ones((2, 2), dtype=bool)) == [0, 4]


def test_coco_compressed_strings_by_hand():
    # Each count in 5-bit groups + 48; from the fourth on, the difference from the count two before.
    assert rle.coco_compress([4, 1, 4]) == "414"
    # 2 -> "2"; 40 -> 8|0x20, 1 -> "X1"; 3 -> "3"; 38 - 40 = -2 -> 0x1e (sign bit set, no more) -> "N"
    assert rle.coco_compress([2, 40, 3, 38]) == "2X13N"
    assert rle.coco_decompress("2X13N") == [2, 40, 3, 38]


def test_malformed_runs_are_refused():
    with pytest.raises(ValueError, match="add up to 5 pixels"):
        rle.coco_decode([2, 3], height=2, width=3)
    with pytest.raises(ValueError, match="ends in the middle"):
        rle.coco_decompress("X")
    with pytest.raises(ValueError, match="leaves the 10×10 image"):
        rle.cvat_decode([0, 4], box=(8, 8, 4, 1), image_size=(10, 10))


def test_cvat_runs_cover_the_mask_box_row_by_row():
    mask = np.zeros((5, 6), dtype=bool)
    mask[1, 2:4] = True
    mask[2, 3] = True
    counts, box = rle.cvat_encode(mask)
    assert box == (2, 1, 2, 2)  # left, top, width, height
    assert counts == [0, 2, 1, 1]  # row 1: 1 1, row 2: 0 1
    assert (rle.cvat_decode(counts, box=box, image_size=(6, 5)) == mask).all()


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # pycocotools on NumPy 2
def test_coco_encoding_matches_the_coco_api():
    coco_mask = pytest.importorskip("pycocotools.mask")
    rng = np.random.default_rng(7)
    for _ in range(50):
        height, width = (int(v) for v in rng.integers(1, 60, 2))
        mask = rng.random((height, width)) < rng.random()
        reference = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
        counts = rle.coco_encode(mask)
        assert rle.coco_compress(counts) == reference["counts"].decode()
        assert rle.coco_decompress(reference["counts"].decode()) == counts
        assert (coco_mask.decode(reference).astype(bool) == mask).all()
