"""``manage.py benchmark_gallery``: what the collection grid costs on a large collection, as JSON."""

import json
import random
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from annotations.models import Annotation, Collection, Image, Region, Split, Verdict
from annotations.services.projects import collection_delete, defect_type_create, project_create
from frontend.views.collection import GRID_PAGE_SIZE
from inference.models import Decision, ModelVersion, ModelVersionStatus, Prediction, Review

BATCH = 5000
# Shares of a line's images: most unlabeled, a few defective; most scored by the model, a few reviewed.
VERDICTS = {Verdict.UNLABELED: 0.70, Verdict.NORMAL: 0.20, Verdict.DEFECTIVE: 0.08, Verdict.UNSURE: 0.02}
SPLITS = {Split.TRAIN: 0.6, Split.TEST: 0.2, Split.UNASSIGNED: 0.2}
SCORED = 0.8
REVIEWED = 0.02


def _chunks(rows: list, size: int = BATCH):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _create(model: type, rows: list) -> list:
    """Insert in batches; the returned rows carry their ids (SQLite and PostgreSQL both return them)."""
    created = []
    for chunk in _chunks(rows):
        created += model.objects.bulk_create(chunk)
    return created


def _fill(collection: Collection, user: AbstractBaseUser, count: int, rng: random.Random) -> dict[str, Any]:
    """Image rows without files, their labels, a ready model's scores and some reviews."""
    defect_types = [defect_type_create(collection=collection, name=name) for name in ("scratch", "dent")]
    splits = rng.choices(list(SPLITS), weights=list(SPLITS.values()), k=count)
    images = _create(
        Image,
        [
            Image(
                collection=collection,
                original_name=f"bench-{index:06d}.png",
                sha256=f"{index:064x}",
                format="PNG",
                width=256,
                height=256,
                mode="L",
                bit_depth=8,
                size_bytes=40_000,
                split=split,
                source="benchmark",
            )
            for index, split in enumerate(splits)
        ],
    )
    verdicts = rng.choices(list(VERDICTS), weights=list(VERDICTS.values()), k=count)
    annotations = _create(
        Annotation,
        [Annotation(image=image, verdict=verdict) for image, verdict in zip(images, verdicts, strict=True)],
    )
    _create(
        Region,
        [
            Region(
                annotation=annotation,
                kind="box",
                defect_type=rng.choice(defect_types),
                geometry={"x": 10.0, "y": 20.0, "width": 30.0, "height": 15.0},
            )
            for annotation in annotations
            if annotation.verdict == Verdict.DEFECTIVE
        ],
    )
    version = ModelVersion.objects.create(
        collection=collection,
        status=ModelVersionStatus.READY,
        algorithm="benchmark",
        backbone="none",
        threshold=1.0,
        normalizer={"low": 0.0, "threshold": 1.0, "high": 2.0},
    )
    scores = [rng.random() for _ in images]
    predictions = _create(
        Prediction,
        [
            Prediction(
                model_version=version,
                image=image,
                score=2 * score,
                normalized_score=score,
                is_defective=score >= 0.5,
                heatmap="",
                heatmap_low=0.0,
                heatmap_high=2.0,
            )
            for image, score in zip(images, scores, strict=True)
            if rng.random() < SCORED
        ],
    )
    _create(
        Review,
        [
            Review(prediction=prediction, reviewer=user, decision=rng.choice(Decision.values))
            for prediction in predictions
            if rng.random() < REVIEWED
        ],
    )
    by_score = sorted(predictions, key=lambda p: (-p.normalized_score, -p.image_id))
    return {
        "ids": [image.pk for image in images],
        "defect_type": defect_types[0].pk,
        # Deep in the highest-score-first order: a few pages from its end.
        "deep_score_cursor": by_score[-5 * GRID_PAGE_SIZE].image_id,
        "predictions": len(predictions),
    }


def _time(client: Client, url: str, params: dict[str, Any], repeat: int) -> dict[str, Any]:
    times, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise CommandError(f"{url} {params} answered {response.status_code}")
        queries = len(captured)
    return {"params": params, "ms": round(statistics.median(times), 1), "queries": queries}


class Command(BaseCommand):
    help = (
        "Time the collection grid on a large collection: create a throwaway project with N image rows "
        "(no files), labels, a ready model's scores and reviews in the configured database; request the "
        "first page, a deep page, each filter and the score order through Django's test client; report "
        "the median milliseconds and the query count of each as JSON; delete it all again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--images", type=int, default=100_000, help="image rows to create")
        parser.add_argument("--repeat", type=int, default=3, help="requests per case (the median is kept)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--json", type=Path, help="write the results here")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["images"] < 10 * GRID_PAGE_SIZE:
            raise CommandError(f"--images must be at least {10 * GRID_PAGE_SIZE}: a deep page needs pages")
        rng = random.Random(options["seed"])
        name = f"benchmark-gallery-{uuid.uuid4().hex[:8]}"
        user = get_user_model().objects.create_user(username=name)
        project = project_create(name=name, created_by=user)
        collection = Collection.objects.create(project=project, name=name)
        try:
            start = time.perf_counter()
            made = _fill(collection, user, options["images"], rng)
            setup = time.perf_counter() - start
            self.stdout.write(
                f"created {options['images']} images ({made['predictions']} scored): {setup:.1f} s"
            )
            results = self._measure(collection, user, made, options["repeat"])
        finally:
            start = time.perf_counter()
            collection_delete(collection=collection)
            project.delete()
            user.delete()
            self.stdout.write(f"deleted the benchmark's data in {time.perf_counter() - start:.1f} s")
        report = {
            "database": connection.vendor,
            "images": options["images"],
            "scored": made["predictions"],
            "page_size": GRID_PAGE_SIZE,
            "setup_seconds": round(setup, 1),
            "requests": results,
        }
        for case, result in results.items():
            self.stdout.write(f"{case:<28} {result['ms']:>8.1f} ms {result['queries']:>4} queries")
        if options["json"] is not None:
            options["json"].parent.mkdir(parents=True, exist_ok=True)
            options["json"].write_text(json.dumps(report, indent=2))
            self.stdout.write(f"wrote {options['json']}")

    def _measure(
        self, collection: Collection, user: AbstractBaseUser, made: dict[str, Any], repeat: int
    ) -> dict[str, dict[str, Any]]:
        ids = made["ids"]
        cases = {
            "first page": {},
            "deep page": {"after": ids[-5 * GRID_PAGE_SIZE]},
            "deep page, backwards": {"before": ids[-5 * GRID_PAGE_SIZE]},
            "split": {"split": Split.TEST},
            "verdict": {"verdict": Verdict.DEFECTIVE},
            "defect type": {"defect_type": made["defect_type"]},
            "reviewed": {"reviewed": "yes"},
            "not reviewed": {"reviewed": "no"},
            "score at least 0.9": {"score_min": 0.9},
            "score 0.45 to 0.55": {"score_min": 0.45, "score_max": 0.55},
            "unlabeled, score >= 0.5": {"verdict": Verdict.UNLABELED, "score_min": 0.5},
            "highest score first": {"order": "-score"},
            "highest score, deep page": {"order": "-score", "after": made["deep_score_cursor"]},
        }
        client = Client()
        client.force_login(user)
        url = reverse("collection-detail", args=[collection.pk])
        # The test client's host, and no HTTPS redirect: the benchmark measures the page, not the proxy.
        with override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False):
            results = {case: _time(client, url, params, repeat) for case, params in cases.items()}
        client.logout()
        return results
