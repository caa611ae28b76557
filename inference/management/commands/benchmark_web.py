"""``manage.py benchmark_web``: the platform's hot requests under concurrent clients, as JSON."""

import base64
import json
import os
import platform
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from rest_framework.authtoken.models import Token

from annotations.models import Collection, Role, Split, Verdict
from annotations.services.projects import collection_delete, membership_create, project_create
from frontend.views.collection import GRID_PAGE_SIZE
from inference.load import Call, Calls, drive, gunicorn_start, server_stop
from inference.models import ModelVersion, Prediction
from inference.services.generated_collections import collection_generate
from inference.services.reviews import review_pending

API = "/api/v1"
JSON = {"Content-Type": "application/json"}


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def _api_cursor(position: int) -> str:
    """The images API's cursor at an id (DRF's encoding: the position in a base64 query string)."""
    return base64.b64encode(urlencode({"p": position}).encode()).decode()


class Plan:
    """The cases of one run: every request a client sends, spread so clients do not share an image,
    an item or a prediction (none answers from a cache another client filled)."""

    def __init__(self, collection: Collection, version: ModelVersion, clients: int, each: int) -> None:
        self.collection, self.version, self.clients, self.each = collection, version, clients, each
        # One more client than run: its requests are the ones whose queries are counted in-process.
        self.slots = clients + 1
        suffix = uuid.uuid4().hex[:8]
        self.manager = get_user_model().objects.create_user(username=f"bench-manager-{suffix}")
        membership_create(project=collection.project, identifier=self.manager.username, role=Role.MANAGER)
        self.reviewers = [
            get_user_model().objects.create_user(username=f"bench-reviewer-{suffix}-{n}")
            for n in range(self.slots)
        ]
        for reviewer in self.reviewers:
            membership_create(project=collection.project, identifier=reviewer.username, role=Role.REVIEWER)
        self.tokens = [Token.objects.create(user=user).key for user in [self.manager, *self.reviewers]]
        browser = Client()
        browser.force_login(self.manager)
        self.cookie = f"sessionid={browser.cookies['sessionid'].value}"
        images = collection.images.order_by("pk")
        self.ids = list(images.values_list("pk", flat=True))
        unlabeled = images.filter(annotation__verdict=Verdict.UNLABELED).values_list("pk", flat=True)
        self.save_images = list(unlabeled[: self.slots])
        if len(self.save_images) < self.slots or len(self.ids) < 2 * GRID_PAGE_SIZE:
            raise CommandError(f"the collection needs {2 * GRID_PAGE_SIZE} images, {self.slots} unlabeled")
        predictions = Prediction.objects.filter(model_version=version)
        self.predictions = list(predictions.order_by("pk").values_list("pk", flat=True)[: self.slots * each])
        by_score = predictions.order_by("normalized_score", "image_id").values_list("image_id", flat=True)
        self.lowest_scores = by_score[GRID_PAGE_SIZE]  # the last page of highest-score-first begins after it
        self.decisions: list[tuple[int, int]] = []

    def users_delete(self) -> None:
        get_user_model().objects.filter(pk__in=[self.manager.pk, *(r.pk for r in self.reviewers)]).delete()

    def _token(self, number: int) -> dict[str, str]:
        return {"Authorization": f"Token {self.tokens[number + 1]}"}

    def _page(self, **params: Any) -> Calls:
        path = f"/collections/{self.collection.pk}/?{urlencode(params)}"
        return lambda number, sent: Call("GET", path, headers={"Cookie": self.cookie})

    def _prediction(self, kind: str) -> Calls:
        def call(number: int, sent: int) -> Call:
            pk = self.predictions[(number * self.each + sent) % len(self.predictions)]
            return Call("GET", f"{API}/predictions/{pk}/{kind}/", headers=self._token(number))

        return call

    def _save(self, number: int, sent: int) -> Call:
        body = {
            "verdict": Verdict.DEFECTIVE,
            "regions": [{"kind": "box", "geometry": {"x": 1, "y": 1, "width": 5 + sent % 9, "height": 5}}],
            "version": sent,  # each client's own image, saved once per request: its version counts up
        }
        path = f"{API}/images/{self.save_images[number]}/annotation/"
        return Call("PUT", path, _json(body), {**self._token(number), **JSON})

    def _next(self, number: int, sent: int) -> Call:
        body = _json({"model_version": self.version.pk})
        return Call("POST", f"{API}/reviews/next/", body, {**self._token(number), **JSON}, ok=(200, 204))

    def decisions_choose(self) -> None:
        """Pending items nobody holds, `each` per client (after the next-item case's claims)."""
        pending = review_pending(version=self.version).filter(claimed_until__isnull=True)
        rows = pending.values_list("pk", "image__annotation__version")[: self.slots * self.each]
        self.decisions = list(rows)
        if len(self.decisions) < self.slots * self.each:
            raise CommandError("the review queue holds too few items for the decisions")

    def _decide(self, number: int, sent: int) -> Call:
        prediction, version = self.decisions[number * self.each + sent]
        body = _json({"prediction": prediction, "decision": "true_defect", "version": version})
        return Call("POST", f"{API}/reviews/", body, {**self._token(number), **JSON}, ok=(201,))

    def cases(self) -> dict[str, Calls]:
        """Every case by name, in the order they run."""
        images_api = f"{API}/images/?collection={self.collection.pk}&page_size=60"
        last_rows = self.ids[-GRID_PAGE_SIZE - 1]
        return {
            "gallery: first page": self._page(),
            "gallery: last rows": self._page(after=last_rows),
            "gallery: split": self._page(split=Split.TEST),
            "gallery: verdict": self._page(verdict=Verdict.DEFECTIVE),
            "gallery: defect type": self._page(defect_type=self.collection.defect_types.first().pk),
            "gallery: reviewed": self._page(reviewed="yes"),
            "gallery: not reviewed": self._page(reviewed="no"),
            "gallery: score 0.45-0.55": self._page(score_min=0.45, score_max=0.55),
            "gallery: unlabeled, score >= 0.5": self._page(verdict=Verdict.UNLABELED, score_min=0.5),
            "gallery: highest score first": self._page(order="-score"),
            "gallery: highest score, last rows": self._page(order="-score", after=self.lowest_scores),
            "api images: first page": lambda n, s: Call("GET", images_api, headers=self._token(n)),
            "api images: last rows": lambda n, s: Call(
                "GET", f"{images_api}&cursor={_api_cursor(self.ids[GRID_PAGE_SIZE])}", headers=self._token(n)
            ),
            "annotation save": self._save,
            "review: next item": self._next,
            "review: decision": self._decide,
            "heatmap": self._prediction("heatmap"),
            "overlay": self._prediction("overlay"),
            "model scores": lambda n, s: Call(
                "GET", f"{API}/model-versions/{self.version.pk}/scores/", headers=self._token(n)
            ),
        }


def _queries(call: Call) -> int:
    """The queries of one request, made in-process through Django's test client."""
    client = Client()
    headers = {k: v for k, v in call.headers.items() if k not in ("Cookie", "Content-Type")}
    if "Cookie" in call.headers:
        client.cookies.load(call.headers["Cookie"])
    with CaptureQueriesContext(connection) as captured:
        response = client.generic(
            call.method, call.path, call.body or b"", content_type="application/json", headers=headers
        )
    if response.status_code not in call.ok:
        raise CommandError(
            f"{call.method} {call.path} answered {response.status_code}: {response.content[:300]}"
        )
    return len(captured)


class Command(BaseCommand):
    help = (
        "The hot requests under concurrent clients on loopback: gunicorn (started here, on the configured "
        "database) serves the gallery (HTML and API, first and last rows, each filter, the score order), "
        "annotation saves, the review queue's next item and decisions, heatmaps, overlays and a model's "
        "scores; p50/p95/p99 ms, requests/s and the queries of each request, as JSON. On a collection "
        "made by generate_collection (--collection), or on one generated for the run and deleted after."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--collection", type=int, help="a generated collection to run on (kept)")
        parser.add_argument("--images", type=int, default=10_000, help="without --collection: generate")
        parser.add_argument("--clients", type=int, default=20)
        parser.add_argument("--requests", type=int, default=10, help="per client and case")
        parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
        parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
        parser.add_argument("--json", type=Path, help="write the results here")

    def handle(self, *args: Any, **options: Any) -> None:
        generated = options["collection"] is None
        collection = (
            self._collection(options) if generated else Collection.objects.get(pk=options["collection"])
        )
        version = ModelVersion.objects.filter(collection=collection, status="ready").order_by("-pk").first()
        if version is None:
            raise CommandError(f"collection {collection.pk} has no ready model version")
        plan = Plan(collection, version, options["clients"], options["requests"])
        log_dir = Path(tempfile.mkdtemp(prefix="benchmark-web-"))
        env = {"DJANGO_ALLOWED_HOSTS": "127.0.0.1", "DJANGO_SECURE_SSL_REDIRECT": "false"}
        server, base = gunicorn_start(
            log_dir / "gunicorn.log", workers=options["workers"], threads=options["threads"], env=env
        )
        results: dict[str, Any] = {}
        cases = plan.cases()
        try:
            for warm in ("gallery: first page", "api images: first page"):  # each worker's first requests
                drive(base, cases[warm], clients=plan.clients, each=2, headers={})
            for name, calls in cases.items():
                if name == "review: decision":
                    plan.decisions_choose()
                result = drive(base, calls, clients=plan.clients, each=plan.each, headers={})
                with override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False):
                    result["queries"] = _queries(calls(plan.clients, 0))
                results[name] = result
                latency = result["latency_ms"]
                self.stdout.write(
                    f"{name:<36} p50 {latency.get('p50', 0):7.1f}  p95 {latency.get('p95', 0):7.1f}  "
                    f"p99 {latency.get('p99', 0):7.1f} ms  {result['requests_per_second']:6.1f}/s  "
                    f"{result['queries']:>3} queries  {result['failed']} failed"
                )
        finally:
            server_stop(server)
            if generated:
                project = collection.project
                collection_delete(collection=collection)
                project.delete()
            get_user_model().objects.filter(
                pk__in=[plan.manager.pk, *(r.pk for r in plan.reviewers)]
            ).delete()
        report = {
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
            "database": connection.vendor,
            "images": len(plan.ids),
            "clients": plan.clients,
            "requests_per_client": plan.each,
            "gunicorn": {"workers": options["workers"], "threads": options["threads"]},
            "cases": results,
        }
        if options["json"] is not None:
            options["json"].parent.mkdir(parents=True, exist_ok=True)
            options["json"].write_text(json.dumps(report, indent=2))
            self.stdout.write(f"wrote {options['json']}")

    def _collection(self, options: dict[str, Any]) -> Collection:
        owner, _ = get_user_model().objects.get_or_create(username="benchmark-web")
        project = project_create(name=f"benchmark web {uuid.uuid4().hex[:8]}", created_by=owner)
        collection = Collection.objects.create(project=project, name="benchmark web")
        started = time.monotonic()
        collection_generate(collection=collection, count=options["images"], user=owner)
        self.stdout.write(f"generated {options['images']:,} images in {time.monotonic() - started:.0f} s")
        return collection
