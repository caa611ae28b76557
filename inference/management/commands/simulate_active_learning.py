"""``manage.py simulate_active_learning``: the reviews each review strategy needs, on MVTec-layout data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inference.management.params import params_parse
from inference.ml.active import STRATEGIES
from inference.ml.experiments.benchmark import tqdm_progress
from inference.ml.experiments.simulation import BASELINE, METRICS, plot_simulation, simulate_active_learning


def _integers(text: str) -> list[int]:
    return [int(item) for item in text.split(",") if item.strip()]


class Command(BaseCommand):
    help = (
        "Simulate a reviewer who answers from the ground truth: the test split of an MVTec-layout "
        "category is cut into a pool to label and a held-out EVAL set; each round every strategy picks "
        "--per-round pool images, the semi-supervised model learns from all labels so far and is "
        "evaluated on EVAL. Prints image/pixel AUROC and AUPRO per round and strategy, and the reviews "
        "each strategy needs to reach random order's final AUPRO."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", required=True, type=Path, help="a category folder or a folder of them")
        parser.add_argument("--category", help="the category, when --data holds several")
        parser.add_argument("--rounds", type=int, default=8, help="labeling rounds after round 0")
        parser.add_argument("--per-round", type=int, default=10, help="images labeled per round")
        parser.add_argument(
            "--strategies",
            default=f"active,{BASELINE}",
            help=f"comma-separated review strategies, of {', '.join(STRATEGIES)}",
        )
        parser.add_argument("--seeds", default="0", help="comma-separated seeds; results are averaged")
        parser.add_argument(
            "--eval-fraction", type=float, default=0.5, help="share of the test split held out"
        )
        parser.add_argument("--image-size", type=int, help="canvas side, px (multiple of 32)")
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="NAME=JSON",
            help="any other patchcore_ss parameter, e.g. --param normalize_intensity=true (repeatable)",
        )
        parser.add_argument(
            "--feature-cache", type=Path, help="keep backbone features in this folder for reruns"
        )
        parser.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
        parser.add_argument("--json", type=Path, help="write the results here")
        parser.add_argument(
            "--plot", type=Path, help="draw AUPRO and image AUROC against reviews to this PNG"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bars")

    def handle(self, *args: Any, **options: Any) -> None:
        params: dict[str, Any] = {}
        if options["image_size"] is not None:
            params["image_size"] = options["image_size"]
        params.update(params_parse(options["param"]))
        strategies = [name.strip() for name in options["strategies"].split(",") if name.strip()]
        try:
            with tqdm_progress(not options["no_progress"]) as progress:
                results = simulate_active_learning(
                    options["data"],
                    rounds=options["rounds"],
                    per_round=options["per_round"],
                    strategies=strategies,
                    eval_fraction=options["eval_fraction"],
                    seeds=_integers(options["seeds"]),
                    params=params,
                    category=options["category"],
                    device=options["device"],
                    cache_dir=options["feature_cache"],
                    progress=progress,
                    log=self.stdout.write,
                )
        except (FileNotFoundError, ValueError) as error:
            raise CommandError(str(error)) from error
        self.table(results)
        if options["json"] is not None:
            options["json"].parent.mkdir(parents=True, exist_ok=True)
            options["json"].write_text(json.dumps(results, indent=2))
            self.stdout.write(f"wrote {options['json']}")
        if options["plot"] is not None:
            self.stdout.write(f"wrote {plot_simulation(results, options['plot'])}")

    def table(self, results: dict[str, Any]) -> None:
        """One row per round and strategy (mean ± std over seeds), then the reviews-to-reach figures."""
        seeds = len(results["seeds"])
        self.stdout.write(
            f"{results['category']}: pool {results['n_pool']} ({results['n_pool_defective']} defective), "
            f"EVAL {results['n_eval']} ({results['n_eval_defective']} defective), {seeds} seed(s)"
        )
        metrics = [key for key in METRICS if key in next(iter(results["curves"].values()))]
        self.stdout.write(
            f"{'round':>5} {'reviews':>7} {'strategy':<12}" + "".join(f"{k:>18}" for k in metrics)
        )
        first = next(iter(results["curves"].values()))
        for round_, reviews in enumerate(first["reviews"]):
            for strategy, curve in results["curves"].items():
                cells = "".join(
                    f"{curve[k]['mean'][round_]:>11.4f} ±{curve[k]['std'][round_]:.3f}" for k in metrics
                )
                self.stdout.write(f"{round_:>5} {reviews:>7} {strategy:<12}{cells}")
        if BASELINE in results["curves"]:
            target = results["curves"][BASELINE]["aupro"]["mean"][-1]
            total = first["reviews"][-1]
            for strategy, reached in results["reviews_to_reach"].items():
                figure = (
                    "never" if reached is None else f"{reached} reviews ({reached / total:.0%} of {total})"
                )
                self.stdout.write(f"{strategy} reaches {BASELINE}'s final AUPRO {target:.4f} after {figure}")
        self.stdout.write("timing: " + ", ".join(f"{k} {v:.1f}" for k, v in results["timing"].items()))
