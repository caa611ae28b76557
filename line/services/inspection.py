"""Inspecting images from the line: score them with the promoted version, record every inspection,
and keep the images the collection's policy asks for in its ``production`` source, scored, so that
they join the review queue in the active-learning order with the rest."""

import base64
import io
import random
import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from PIL import Image as PILImage

from annotations.models import Collection, Split
from annotations.services.ingest import InspectedImage, atomic_with_files, image_store, uploads_inspect
from inference.ml.algorithms import Predictions
from inference.ml.thresholds import ScoreNormalizer
from inference.models import ModelVersion
from inference.services.heatmaps import heatmap_png
from inference.services.reviews import review_followup_queue
from inference.services.scoring import predictions_write, region_rows
from line.models import Inspection, LinePolicy, Station
from line.services.runtime import loaded_model

PRODUCTION_SOURCE = "production"
MAX_IMAGES_PER_REQUEST = 64


class ImagesRejected(Exception):
    """Some files are not images Loupe takes: nothing was inspected or stored."""

    def __init__(self, rejected: list[tuple[str, str]], total: int) -> None:
        super().__init__(f"{len(rejected)} of {total} files were rejected, so none was inspected")
        self.rejected = rejected


@dataclass(frozen=True)
class InspectionOutcome:
    """What one request's inspection gave: the version that judged, one result per image in order, the
    seconds it waited for the model (busy with other requests) and the seconds the model itself took;
    the rest of a request's time is the service's overhead."""

    version: ModelVersion
    results: list[dict[str, Any]]
    wait_seconds: float
    model_seconds: float


def line_policy(*, collection_id: int) -> LinePolicy:
    """The collection's line policy (the defaults until a manager changes them)."""
    policy, _ = LinePolicy.objects.get_or_create(collection_id=collection_id)
    return policy


def kept_for_review(policy: LinePolicy, normalized: float, defective: bool, draw: float) -> bool:
    """Whether the policy keeps an inspected image: flagged, near the threshold, or in the sampled
    share of the passed ones (``draw`` is uniform in [0, 1))."""
    if defective and policy.keep_flagged:
        return True
    if abs(normalized - 0.5) <= policy.keep_band:
        return True
    return not defective and draw < policy.keep_passed_share


def _decoded(inspected: InspectedImage) -> PILImage.Image:
    picture = PILImage.open(io.BytesIO(inspected.content))
    picture.load()
    return picture


def inspect_images(
    *,
    collection: Collection,
    uploads: list[tuple[str, bytes]],
    station: Station | None = None,
    user: AbstractBaseUser | None = None,
    heatmaps: bool = False,
    rng: random.Random | None = None,
) -> InspectionOutcome:
    """Score the uploads with the collection's promoted version, record each inspection and keep
    what the policy asks for. Every file is checked first: one bad file and nothing happens.

    Raises:
        ImagesRejected: a file is not an image Loupe takes (the reasons are on the exception).
        NoPromotedModel: the collection has no promoted version.
        ValueError: no file, or more than :data:`MAX_IMAGES_PER_REQUEST`.
    """
    if not uploads:
        raise ValueError("send at least one image (multipart field 'images', or the raw image bytes)")
    if len(uploads) > MAX_IMAGES_PER_REQUEST:
        raise ValueError(f"send at most {MAX_IMAGES_PER_REQUEST} images per request, not {len(uploads)}")
    accepted, rejected = uploads_inspect(uploads=uploads)
    if rejected:
        raise ImagesRejected(rejected, len(uploads))
    loaded = loaded_model(collection_id=collection.pk)
    version = loaded.version
    pictures = [_decoded(inspected) for _name, inspected in accepted]
    asked = time.perf_counter()
    with loaded.lock:
        started = time.perf_counter()
        predicted = loaded.detector.predict(pictures)
        model_seconds = time.perf_counter() - started
    normalizer = ScoreNormalizer(**version.normalizer)
    results = []
    for index, (name, _inspected) in enumerate(accepted):
        score = float(predicted.scores[index])
        anomaly_map = predicted.anomaly_maps[index]
        result: dict[str, Any] = {
            "name": name,
            "score": score,
            "normalized_score": float(normalizer(score)),
            "decision": "defective" if score >= version.threshold else "normal",
            "regions": region_rows(anomaly_map, version.pixel_threshold, None),
        }
        if heatmaps:
            png = heatmap_png(anomaly_map, version.heatmap_low, version.heatmap_high)
            result["heatmap"] = base64.b64encode(png).decode()
        results.append(result)
    _record(collection, version, loaded.fitted_ids, accepted, predicted, results, station, user, rng)
    return InspectionOutcome(version, results, started - asked, model_seconds)


def _record(
    collection: Collection,
    version: ModelVersion,
    fitted_ids: list[int],
    accepted: list[tuple[str, InspectedImage]],
    predicted: Predictions,
    results: list[dict[str, Any]],
    station: Station | None,
    user: AbstractBaseUser | None,
    rng: random.Random | None,
) -> None:
    """One inspection row per image; the kept images stored, scored and queued for ranking."""
    policy = line_policy(collection_id=collection.pk)
    # An archived collection still answers its stations (archiving in the browser must not stop a
    # running line; revoking the station does), but keeps nothing: it is read-only.
    archived = Collection.objects.filter(pk=collection.pk, archived_at__isnull=False).exists()
    draw = rng or random.Random()
    by = user if user is not None and user.is_authenticated else None
    with atomic_with_files():  # a kept image's files go if the rows do not
        kept_indices, kept_images = [], []
        rows = []
        for index, ((name, inspected), result) in enumerate(zip(accepted, results, strict=True)):
            defective = result["decision"] == "defective"
            image = None
            if kept_for_review(policy, result["normalized_score"], defective, draw.random()) and not archived:
                image = image_store(
                    collection=collection,
                    inspected=inspected,
                    original_name=name,
                    split=Split.UNASSIGNED,
                    source=PRODUCTION_SOURCE,
                    uploaded_by=by,
                ).image
                if image not in kept_images:  # the same picture twice in a request is kept once
                    kept_indices.append(index)
                    kept_images.append(image)
            rows.append(
                Inspection(
                    collection=collection,
                    station=station,
                    user=by,
                    model_version=version,
                    name=name[:255],
                    score=result["score"],
                    normalized_score=result["normalized_score"],
                    is_defective=defective,
                    image=image,
                )
            )
        Inspection.objects.bulk_create(rows)
        if kept_images:
            nearest = predicted.nearest_normal
            predictions_write(
                version=version,
                images=kept_images,
                predicted=Predictions(
                    scores=predicted.scores[kept_indices],
                    anomaly_maps=[predicted.anomaly_maps[i] for i in kept_indices],
                    nearest_normal=nearest[kept_indices] if nearest is not None else None,
                ),
                fitted_ids=fitted_ids,
                regions=[results[i]["regions"] for i in kept_indices],  # extracted once, for the answer
            )
            review_followup_queue(version=version, created_by=by)
