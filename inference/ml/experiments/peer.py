"""A peer tool (anomalib's PatchCore, ``../shared/peers/anomalib_patchcore.py``) run on the same
category and the same training images as Loupe, in its own virtualenv, for one side-by-side table.

The peer is a measuring instrument, not a dependency: it runs as a separate program whose interpreter
the caller names, and reports one JSON document (``image_auroc``, ``pixel_auroc``, ``aupro``,
``fit_seconds``, ``images_per_second``, ``peak_rss_mb_self``; see the peer script).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.ml.data import Category

PEER_QUALITY = ("image_auroc", "pixel_auroc", "aupro")


@dataclass(frozen=True)
class Peer:
    """How to run the peer.

    Attributes:
        name: what the table calls it.
        python: the interpreter of the peer's virtualenv.
        script: the peer's program.
        timeout: seconds one category may take.
    """

    name: str
    python: Path
    script: Path
    timeout: float = 3 * 3600


def category_folder(category: Category) -> Path:
    """The folder holding the category's ``train`` and ``test`` folders."""
    return category.test[0].parents[2]


def run_peer(peer: Peer, category: Category) -> dict[str, Any]:
    """Fit and evaluate the peer on ``category`` with exactly ``category.train`` as training images.

    Returns:
        A benchmark entry: ``category``, ``n_train``, ``quality`` (the peer's own metrics) and ``cost``
        (``fit_seconds``, ``images_per_second``, ``peak_memory_mb``), plus the peer's ``report``.

    Raises:
        RuntimeError: the peer failed or printed no result.
    """
    with tempfile.TemporaryDirectory() as folder:
        train_list = Path(folder) / "train.txt"
        train_list.write_text("\n".join(path.name for path in category.train))
        out = Path(folder) / "peer.json"
        command = [str(peer.python), str(peer.script), str(category_folder(category))]
        command += ["--train-list", str(train_list), "--json", str(out)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=peer.timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise RuntimeError(f"{peer.name} could not run on {category.name}: {error}") from error
        if done.returncode != 0 or not out.is_file():
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise RuntimeError(f"{peer.name} failed on {category.name}: " + " / ".join(tail))
        report = json.loads(out.read_text())
    if report.get("n_train") != len(category.train):
        raise RuntimeError(
            f"{peer.name} trained on {report.get('n_train')} images of {category.name}, "
            f"not the {len(category.train)} given"
        )
    return {
        "category": category.name,
        "n_train": report["n_train"],
        "quality": {key: report[key] for key in PEER_QUALITY if key in report},
        "cost": {
            "fit_seconds": report["fit_seconds"],
            "images_per_second": report["images_per_second"],
            "peak_memory_mb": report["peak_rss_mb_self"],
        },
        "report": report,
    }
