"""``manage.py benchmark_gallery``: what the collection grid costs on a large collection, as JSON."""

import json
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

from annotations.models import Collection, Split, Verdict
from annotations.services.projects import collection_delete, project_create
from frontend.views.collection import GRID_PAGE_SIZE
from inference.models import Prediction
from inference.selectors import active_model_version
from inference.services.generated_collections import collection_generate


def _fill(collection: Collection, user: AbstractBaseUser, count: int, seed: int) -> dict[str, Any]:
    """A generated collection (files, labels, two versions' scores, reviews); what the cases need."""
    collection_generate(collection=collection, count=count, user=user, seed=seed)
    shown = active_model_version(collection_id=collection.pk)
    by_score = Prediction.objects.filter(model_version=shown).order_by("normalized_score", "image_id")
    return {
        "ids": list(collection.images.order_by("pk").values_list("pk", flat=True)),
        "defect_type": collection.defect_types.order_by("pk").first().pk,
        # Deep in the highest-score-first order: a few pages from its end.
        "deep_score_cursor": by_score.values_list("image_id", flat=True)[5 * GRID_PAGE_SIZE - 1],
        "predictions": by_score.count(),  # by the version the grid shows
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
        "Time the collection grid on a large collection: create a throwaway project with N generated "
        "images (files, labels, two ready models' scores, reviews) in the configured database; request the "
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
        name = f"benchmark-gallery-{uuid.uuid4().hex[:8]}"
        user = get_user_model().objects.create_user(username=name)
        project = project_create(name=name, created_by=user)
        collection = Collection.objects.create(project=project, name=name)
        try:
            start = time.perf_counter()
            made = _fill(collection, user, options["images"], options["seed"])
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
