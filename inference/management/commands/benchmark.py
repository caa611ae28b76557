"""``manage.py benchmark``: quality and cost of an algorithm on MVTec-layout data, as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from inference.management.params import params_parse
from inference.ml.algorithms import ALGORITHMS
from inference.ml.experiments.benchmark import (
    results_table,
    run_benchmarks,
    select_image_score,
    selection_table,
)
from inference.ml.experiments.defect_types import defect_type_experiment
from inference.ml.experiments.fewshot import BENCHMARK_KINDS, few_label_benchmark
from inference.ml.experiments.peer import Peer
from inference.ml.experiments.scaling import run_scaling, scaling_table


class Command(BaseCommand):
    help = (
        "Fit on <category>/train/good and evaluate on <category>/test for each MVTec-layout category "
        "under --data; write image/pixel AUROC, AUPRO, F1-max and cost (fit time, images/s, peak memory, "
        "model size) as JSON. With --few-labels N, N defective test images become (weak) labels and "
        "unsupervised PatchCore is compared with patchcore_ss trained on each label kind, on the rest. "
        "With --scaling 100,1000,10000, fit time, scoring images/s and peak memory are measured at each "
        "number of synthetic training images instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--data",
            action="append",
            type=Path,
            help="a dataset: a category folder or a folder of them (repeatable); every dataset under "
            "LOUPE_DATASETS_DIR (the shared datasets) when left out",
        )
        parser.add_argument("--algorithm", choices=ALGORITHMS, default="patchcore")
        parser.add_argument("--category", action="append", help="only this category (repeatable)")
        parser.add_argument("--image-size", type=int, help="canvas side, px (multiple of 32)")
        parser.add_argument("--preprocess-mode", choices=("auto", "letterbox", "resize", "tile"))
        parser.add_argument("--coreset-ratio", type=float, help="PatchCore: fraction of patches kept")
        parser.add_argument("--backbone", help="backbone name, e.g. efficientnet_lite0")
        parser.add_argument("--weights", help="local backbone weights file (for backbones not shipped)")
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="NAME=JSON",
            help="any other algorithm parameter, e.g. --param blur_sigma=4 (repeatable)",
        )
        parser.add_argument(
            "--few-labels",
            type=int,
            metavar="N",
            help="label N defective test images (seeded choice) and compare PatchCore with patchcore_ss",
        )
        parser.add_argument(
            "--label-kinds",
            default="mask,box,image",
            help=f"--few-labels: comma-separated label kinds to compare, of {', '.join(BENCHMARK_KINDS)}",
        )
        parser.add_argument("--label-seed", type=int, default=0, help="--few-labels: seed of the choice")
        parser.add_argument(
            "--feature-cache",
            type=Path,
            help="--few-labels: keep backbone features in this folder for reruns",
        )
        parser.add_argument(
            "--train-limit", type=int, metavar="N", help="train on at most N images per category (seeded)"
        )
        parser.add_argument(
            "--peer-python",
            type=Path,
            help="the python of an anomalib virtualenv (../shared/peers/anomalib.md): run anomalib's "
            "PatchCore on the same training images and table both",
        )
        parser.add_argument(
            "--peer-script",
            type=Path,
            help="the peer's program; default: anomalib_patchcore.py in the peers folder beside the datasets",
        )
        parser.add_argument(
            "--select-image-score",
            action="store_true",
            help="also cross-validate map_top_fraction over every category (each test split in folds)",
        )
        parser.add_argument(
            "--defect-types",
            action="store_true",
            help="instead: learn defect types from half of each type's outlined test defects and report "
            "the per-type confusion matrix on the other half",
        )
        parser.add_argument(
            "--scaling",
            metavar="N,N,...",
            help="measure cost at these numbers of synthetic training images (each in a fresh process)",
        )
        parser.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
        parser.add_argument("--json", type=Path, help="write the results here")
        parser.add_argument("--no-progress", action="store_true", help="no progress bars")

    def handle(self, *args: Any, **options: Any) -> None:
        params: dict[str, Any] = {}
        for option, name in (
            ("image_size", "image_size"),
            ("preprocess_mode", "preprocess_mode"),
            ("coreset_ratio", "coreset_ratio"),
            ("backbone", "backbone"),
            ("weights", "weights_path"),
        ):
            if options[option] is not None:
                params[name] = options[option]
        params.update(params_parse(options["param"]))
        try:
            if options["scaling"] is not None:
                sizes = [int(size) for size in options["scaling"].split(",") if size.strip()]
                results = run_scaling(options["algorithm"], params, sizes=sizes, log=self.stdout.write)
                self.stdout.write(scaling_table(results))
            elif options["defect_types"]:
                roots = options["data"] or _shared_datasets()
                results = {"datasets": [self.defect_types(root, params, options) for root in roots]}
            elif options["few_labels"] is not None:
                roots = options["data"] or _shared_datasets()
                if len(roots) != 1:
                    raise CommandError("--few-labels compares on one dataset: give one --data")
                results = self.few_labels(roots[0], params, options)
            else:
                roots = options["data"] or _shared_datasets()
                results = run_benchmarks(
                    roots,
                    options["algorithm"],
                    params,
                    categories=options["category"],
                    device=options["device"],
                    show_progress=not options["no_progress"],
                    log=self.stdout.write,
                    train_limit=options["train_limit"],
                    peer=_peer(options),
                    score_candidates=options["select_image_score"],
                )
                self.stdout.write(results_table(results))
                if options["select_image_score"]:
                    results["image_score_selection"] = select_image_score(results)
                    self.stdout.write(selection_table(results["image_score_selection"]))
        except (FileNotFoundError, RuntimeError, ValueError) as error:
            raise CommandError(str(error)) from error
        if options["json"] is not None:
            options["json"].parent.mkdir(parents=True, exist_ok=True)
            options["json"].write_text(json.dumps(results, indent=2))
            self.stdout.write(f"wrote {options['json']}")

    def defect_types(self, root: Path, params: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
        """Run the defect-type experiment on one dataset and print each category's accuracies."""
        result = defect_type_experiment(root, params, device=options["device"])
        for category in result["categories"]:
            by_type = ", ".join(f"{kind} {value:.2f}" for kind, value in category["accuracy_by_type"].items())
            self.stdout.write(
                f"{Path(root).name}/{category['category']}: balanced accuracy "
                f"{category['balanced_accuracy']:.3f} on {category['n_test']} regions ({by_type})"
            )
        return {"name": Path(root).name, **result}

    def few_labels(self, root: Path, params: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
        """Run the few-label comparison and print each variant's mean figures."""
        if options["algorithm"] not in ("patchcore", "patchcore_ss"):
            raise CommandError("--few-labels compares PatchCore with patchcore_ss; drop --algorithm")
        results = few_label_benchmark(
            root,
            options["few_labels"],
            [kind.strip() for kind in options["label_kinds"].split(",") if kind.strip()],
            options["label_seed"],
            params,
            categories=options["category"],
            device=options["device"],
            cache_dir=options["feature_cache"],
            show_progress=not options["no_progress"],
            log=self.stdout.write,
        )
        for name, summary in results["mean"].items():
            self.stdout.write(f"mean {name}: " + ", ".join(f"{k} {v:.4f}" for k, v in summary.items()))
        return results


def _peer(options: dict[str, Any]) -> Peer | None:
    """The peer the options name, or None.

    Raises:
        CommandError: its interpreter or program is missing.
    """
    if options["peer_python"] is None:
        return None
    script = (
        options["peer_script"] or Path(settings.LOUPE_DATASETS_DIR).parent / "peers" / "anomalib_patchcore.py"
    )
    for path, what in ((options["peer_python"], "--peer-python"), (script, "--peer-script")):
        if not Path(path).is_file():
            raise CommandError(f"{what} {path} does not exist (see ../shared/peers/anomalib.md)")
    return Peer("anomalib", Path(options["peer_python"]), Path(script))


def _shared_datasets() -> list[Path]:
    """Every dataset folder under LOUPE_DATASETS_DIR.

    Raises:
        CommandError: there is none.
    """
    folder = Path(settings.LOUPE_DATASETS_DIR)
    roots = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    if not roots:
        raise CommandError(
            f"no --data given and no datasets in {folder}: pass --data or set LOUPE_DATASETS_DIR"
        )
    return roots
