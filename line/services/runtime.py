"""The promoted version of each collection, kept loaded in this process between inspections.

A request asks which version is promoted (one query) and uses the model loaded for it. When a manager
promotes another version, the first request to notice loads it while the requests around it keep
being answered by the model loaded before; then the new one takes over. No restart, no failed request.
"""

import threading
from dataclasses import dataclass, field

from inference.ml.algorithms import AnomalyDetector
from inference.models import ModelVersion, ModelVersionStatus
from inference.selectors import production_version
from inference.services.scoring import fitted_image_ids, model_load


class NoPromotedModel(Exception):
    def __init__(self, collection_id: int) -> None:
        super().__init__(
            f"collection {collection_id} has no promoted model: promote a ready version on the models page "
            "first, and the line is inspected with it"
        )


@dataclass
class LoadedModel:
    """A version's fitted model, ready to score; one prediction at a time (``lock``)."""

    version: ModelVersion
    detector: AnomalyDetector
    fitted_ids: list[int]
    lock: threading.Lock = field(default_factory=threading.Lock)


_loaded: dict[int, LoadedModel] = {}
_loading: dict[int, threading.Lock] = {}
_guard = threading.Lock()


def loaded_model(*, collection_id: int) -> LoadedModel:
    """The promoted version's model, loading it on first use; while another request of this process
    loads a newly promoted one, the one loaded before answers.

    Raises:
        NoPromotedModel: the collection has no promoted ready version.
        ModelFilesMissing: its model's files are not in storage.
    """
    version = production_version(collection_id=collection_id)
    if version is None:
        raise NoPromotedModel(collection_id)
    current = _loaded.get(collection_id)
    if current is not None and current.version.pk == version.pk:
        current.version = version  # the row as it is now: a changed threshold applies at once
        return current
    with _guard:
        loading = _loading.setdefault(collection_id, threading.Lock())
    if current is not None and not loading.acquire(blocking=False):
        return current  # being replaced right now: the old model answers meanwhile
    if current is None:
        loading.acquire()
    try:
        current = _loaded.get(collection_id)
        if current is None or current.version.pk != version.pk:
            current = LoadedModel(version, model_load(version), fitted_image_ids(version))
            _loaded[collection_id] = current
        return current
    finally:
        loading.release()


def models_warm() -> list[int]:
    """Load every collection's promoted version now (a process serving inspections, at start); the
    ids of the collections loaded."""
    ids = (
        ModelVersion.objects.filter(status=ModelVersionStatus.READY, promoted_at__isnull=False)
        .values_list("collection_id", flat=True)
        .distinct()
    )
    warmed = []
    for collection_id in ids:
        loaded_model(collection_id=collection_id)
        warmed.append(collection_id)
    return warmed


def loaded_model_count() -> int:
    """How many collections' models this process holds."""
    return len(_loaded)


def models_forget() -> None:
    """Drop every loaded model (tests, and a process that wants its memory back)."""
    with _guard:
        _loaded.clear()
