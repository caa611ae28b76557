"""Run-length encodings of masks that other formats use, to and from a boolean (H, W) array.

- COCO: runs over the mask in column-major (Fortran) order, the first run counting zeros; either a
  list of counts ("uncompressed RLE") or the counts packed into a string, as the COCO API's
  `rleToString` packs them: each count (from the fourth on, its difference from the count two before)
  in 5-bit groups, least significant first, 0x20 marking that more follow, the top group's 0x10 the
  sign, each group offset by 48 into printable ASCII.
- CVAT (for images 1.1, `<mask rle="..." left top width height>`): runs over the mask's bounding box
  only, row-major, the first run counting zeros.
"""

import numpy as np


def runs(flat: np.ndarray) -> list[int]:
    """Alternating run lengths of a flat boolean array, the first counting zeros (0 when it starts set)."""
    padded = np.concatenate([[False], flat.astype(bool), [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    counts = np.diff(np.concatenate([[0], edges, [flat.size]])).tolist()
    if counts and counts[-1] == 0:
        counts.pop()
    return counts


def from_runs(counts: list[int], size: int) -> np.ndarray:
    """The flat boolean array of `size` values that alternating runs (zeros first) describe.

    Raises:
        ValueError: the runs are negative or do not add up to `size`.
    """
    if any(count < 0 for count in counts):
        raise ValueError("run lengths must not be negative")
    if sum(counts) != size:
        raise ValueError(f"the runs add up to {sum(counts)} pixels, the mask has {size}")
    values = np.zeros(len(counts), dtype=bool)
    values[1::2] = True
    return np.repeat(values, counts)


def coco_encode(mask: np.ndarray) -> list[int]:
    """COCO's uncompressed counts of a (H, W) mask."""
    return runs(mask.reshape(-1, order="F"))


def coco_decode(counts: list[int], *, height: int, width: int) -> np.ndarray:
    """The (H, W) mask of COCO counts.

    Raises:
        ValueError: the counts do not describe a mask of that size.
    """
    return from_runs(counts, height * width).reshape((height, width), order="F")


def coco_compress(counts: list[int]) -> str:
    """COCO's compressed string of a list of counts."""
    out = []
    for index, count in enumerate(counts):
        value = count - counts[index - 2] if index > 2 else count
        more = True
        while more:
            group = value & 0x1F
            value >>= 5
            more = value != -1 if group & 0x10 else value != 0
            if more:
                group |= 0x20
            out.append(chr(group + 48))
    return "".join(out)


def coco_decompress(packed: str) -> list[int]:
    """The list of counts of COCO's compressed string.

    Raises:
        ValueError: the string is not a packed RLE.
    """
    counts: list[int] = []
    position = 0
    while position < len(packed):
        value, shift, more = 0, 0, True
        while more:
            if position >= len(packed):
                raise ValueError("the compressed RLE string ends in the middle of a count")
            group = ord(packed[position]) - 48
            if not 0 <= group < 64:
                raise ValueError(f"{packed[position]!r} cannot appear in a compressed RLE string")
            value |= (group & 0x1F) << shift
            more = bool(group & 0x20)
            position += 1
            shift += 5
            if not more and group & 0x10:
                value |= -1 << shift
        if len(counts) > 2:
            value += counts[-2]
        counts.append(value)
    return counts


def cvat_encode(mask: np.ndarray) -> tuple[list[int], tuple[int, int, int, int]]:
    """CVAT's runs of a non-empty (H, W) mask and its box (left, top, width, height)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    top, left = int(rows[0]), int(cols[0])
    height, width = int(rows[-1]) - top + 1, int(cols[-1]) - left + 1
    return runs(mask[top : top + height, left : left + width].reshape(-1)), (left, top, width, height)


def cvat_decode(
    counts: list[int], *, box: tuple[int, int, int, int], image_size: tuple[int, int]
) -> np.ndarray:
    """The image-sized (H, W) mask of CVAT's runs over `box` (left, top, width, height).

    Raises:
        ValueError: the runs do not fill the box, or the box leaves the image.
    """
    left, top, width, height = box
    image_width, image_height = image_size
    if left < 0 or top < 0 or width <= 0 or height <= 0:
        raise ValueError(f"the mask's box {box} is not a box")
    if left + width > image_width or top + height > image_height:
        raise ValueError(f"the mask's box {box} leaves the {image_width}×{image_height} image")
    mask = np.zeros((image_height, image_width), dtype=bool)
    mask[top : top + height, left : left + width] = from_runs(counts, width * height).reshape(height, width)
    return mask
