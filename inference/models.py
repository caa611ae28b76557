"""Model versions, the background jobs that make and use them, and their predictions.

A `Job` row is the truth about a piece of background work; Celery only carries its id. A worker
claims a job with a conditional update that takes a lease, renews the lease while it works, and
writes its results only while it still holds the lease (see `inference.services.jobs`).
"""

from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Abs

from annotations.models import AnnotationRevision, Collection, Image


class SnapshotRole(models.TextChoices):
    """What an image of a data snapshot is for."""

    TRAIN = "train", "Training (normal or unlabeled)"
    TEST = "test", "Test (metrics and threshold)"
    LABELED = "labeled", "Labeled defect outside the test split"
    HARD_NORMAL = "hard_normal", "Normal image reviewed as a false alarm"


class DataSnapshot(models.Model):
    """The data a job used, frozen when it was asked for: which images, at which annotation revision,
    in which role. What a model version learned from can always be read back, label for label."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="data_snapshots")
    # Images per role, counted once when frozen (lists show them without counting rows).
    counts = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"data snapshot {self.pk} of {self.collection}"


class SnapshotImage(models.Model):
    """One image of a snapshot in one role, at annotation version `annotation_version` (version v is
    AnnotationRevision v; 0: never labeled)."""

    snapshot = models.ForeignKey(DataSnapshot, on_delete=models.CASCADE, related_name="images")
    # No database constraint: the row keeps saying which image was used after the image is deleted.
    image = models.ForeignKey(Image, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    annotation_version = models.PositiveIntegerField()
    role = models.CharField(max_length=12, choices=SnapshotRole.choices)
    # Position among the images the model was fitted on (training, then labeled), set when training
    # succeeds: what a prediction's nearest-normal index points to. Null: not fitted on.
    fit_index = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "role", "image"], name="snapshot_image_unique")
        ]
        ordering = ["snapshot_id", "role", "image_id"]

    def __str__(self) -> str:
        return f"{self.role} image {self.image_id} v{self.annotation_version} of snapshot {self.snapshot_id}"


class ModelVersionStatus(models.TextChoices):
    TRAINING = "training"
    READY = "ready"
    FAILED = "failed"


class ModelVersion(models.Model):
    """One trained model of a collection, with the data it was trained on and how well it did."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="model_versions")
    status = models.CharField(
        max_length=10, choices=ModelVersionStatus.choices, default=ModelVersionStatus.TRAINING
    )
    algorithm = models.CharField(max_length=32)
    backbone = models.CharField(max_length=64)
    parameters = models.JSONField(default=dict, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    # The frozen data it was trained and tested on (see DataSnapshot).
    snapshot = models.ForeignKey(
        "DataSnapshot", null=True, blank=True, on_delete=models.RESTRICT, related_name="model_versions"
    )
    metrics = models.JSONField(default=dict, blank=True)
    threshold = models.FloatField(null=True, blank=True, help_text="Image score threshold, raw units")
    threshold_method = models.CharField(max_length=32, blank=True)
    # Who last chose the threshold by hand, and when (empty: it is the one training picked).
    threshold_set_at = models.DateTimeField(null=True, blank=True)
    threshold_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pixel_threshold = models.FloatField(null=True, blank=True)
    # ScoreNormalizer of image scores ({low, threshold, high}) and the range heatmaps are scaled to.
    normalizer = models.JSONField(default=dict, blank=True)
    heatmap_low = models.FloatField(null=True, blank=True)
    heatmap_high = models.FloatField(null=True, blank=True)
    artifact_prefix = models.CharField(max_length=200, blank=True, help_text="Storage key of its folder")
    fit_seconds = models.FloatField(null=True, blank=True)
    peak_memory_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    device = models.CharField(max_length=32, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The collection's production model is its most recently promoted ready version.
    promoted_at = models.DateTimeField(null=True, blank=True)
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["collection", "status"])]

    def __str__(self) -> str:
        return f"{self.collection} model {self.pk} ({self.algorithm}, {self.status})"


class JobKind(models.TextChoices):
    TRAIN = "train"
    SCORE = "score"
    EVALUATE = "evaluate"
    RANK = "rank"
    EXPORT = "export"
    IMPORT = "import"
    LABEL_EXPORT = "label_export"


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(models.Model):
    kind = models.CharField(max_length=16, choices=JobKind.choices)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="jobs")
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    parameters = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    progress = models.FloatField(default=0.0, help_text="0 to 1")
    message = models.CharField(max_length=300, blank=True)
    failure_reason = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    cancel_requested = models.BooleanField(default=False)
    # The lease: who runs it, until when; renewed by the heartbeat, reclaimed by the reaper.
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "lease_expires_at"]), models.Index(fields=["collection"])]

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk} ({self.status})"


class ChunkStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"


class ScoreChunk(models.Model):
    """A share of a scoring job that any worker may take: the images the job scores whose ids lie in
    [first_image_id, last_image_id]. A worker holds it under a lease, as a job is held, so several
    workers score one job at once and a vanished one's share is taken over where it stopped."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    first_image_id = models.BigIntegerField()
    last_image_id = models.BigIntegerField()
    images = models.PositiveIntegerField(help_text="How many it held when the job was planned")
    scored = models.PositiveIntegerField(default=0, help_text="Predictions written for it")
    status = models.CharField(max_length=10, choices=ChunkStatus.choices, default=ChunkStatus.PENDING)
    owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="score_chunk_unique_number")]

    def __str__(self) -> str:
        return f"chunk {self.number} of job {self.job_id} ({self.status})"


class ExportStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


class ModelExport(models.Model):
    """A version's model written for runners outside Loupe (ONNX, OpenVINO IR, manifest), with the
    parity figures that say whether they give what Loupe gives. Its files are in storage under
    `storage_prefix` (inside the version's folder, so they go with it)."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="exports")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="exports")
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    # [{name, size}]: paths relative to storage_prefix, bytes; only those can be downloaded.
    files = models.JSONField(default=list, blank=True)
    manifest = models.JSONField(default=dict, blank=True)
    # Per runtime: {runtime, images, max_score_diff, max_map_diff, flipped, passed}.
    parity = models.JSONField(default=list, blank=True)
    failure_reason = models.TextField(blank=True)
    storage_prefix = models.CharField(max_length=250, blank=True, help_text="Storage key of its folder")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"export {self.pk} of model {self.model_version_id} ({self.status})"


class Prediction(models.Model):
    """A model version's output for one image: score, decision and heatmap."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="predictions")
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="predictions")
    score = models.FloatField(help_text="Raw image score, the algorithm's units")
    normalized_score = models.FloatField(help_text="0 to 1; 0.5 is the threshold")
    is_defective = models.BooleanField(help_text="score >= the version's threshold")
    # 8-bit greyscale PNG at the image's size: 0 is heatmap_low, 255 is heatmap_high (raw units).
    heatmap = models.FileField(max_length=300)
    heatmap_low = models.FloatField()
    heatmap_high = models.FloatField()
    # Regions of the map above the pixel threshold: [{x, y, width, height, area, peak}], image px.
    regions = models.JSONField(default=list, blank=True)
    nearest_normal = models.ForeignKey(
        Image, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The heatmap pooled to a small grid: near-duplicates (to the review queue) have near descriptors.
    descriptor = models.JSONField(default=list, blank=True)
    # Place in the review queue under the collection's strategy (null: after the ranked ones).
    review_rank = models.PositiveIntegerField(null=True, blank=True)
    # The review queue's claim: a reviewer holds the item until then, so no one else is handed it.
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model_version", "image"], name="prediction_unique_image")
        ]
        indexes = [
            # The grid in score order, ties by image (`inference.selectors.scored_image_list`).
            models.Index(
                fields=["model_version", "normalized_score", "image"], name="prediction_score_order"
            ),
            # The review queue's order (`inference.services.reviews.review_pending`); ascending keys
            # put nulls last on PostgreSQL, as the queue does (SQLite refuses NULLS LAST in an index).
            models.Index(
                F("model_version"),
                F("review_rank"),
                Abs(F("normalized_score") - 0.5),
                F("image"),
                name="prediction_queue_order",
            ),
        ]
        ordering = ["model_version_id", "image_id"]

    def __str__(self) -> str:
        return f"{self.image} by model {self.model_version_id}: {self.score:.3g}"


class Decision(models.TextChoices):
    TRUE_DEFECT = "true_defect"
    FALSE_POSITIVE = "false_positive"
    MISSED_DEFECT = "missed_defect"
    UNSURE = "unsure"


class FalsePositiveReason(models.TextChoices):
    """Why a flagged image is fine: each reason feeds training differently (see DESIGN.md)."""

    COSMETIC = "cosmetic", "Acceptable cosmetic variation"
    DUST = "dust", "Dust on the lens"
    LIGHTING = "lighting", "Lighting or reflection"
    LABEL_WRONG = "label_wrong", "Ground truth was wrong"


class Review(models.Model):
    """A reviewer's decision on a prediction. Reviews are labels: each one wrote the annotation
    revision it points to."""

    prediction = models.ForeignKey(Prediction, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="reviews"
    )
    decision = models.CharField(max_length=16, choices=Decision.choices)
    reason = models.CharField(max_length=16, choices=FalsePositiveReason.choices, blank=True)
    comment = models.TextField(blank=True)
    revision = models.ForeignKey(
        AnnotationRevision, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["prediction", "created_at"])]

    def __str__(self) -> str:
        return f"{self.decision} on {self.prediction} by {self.reviewer}"


class ReviewStrategy(models.TextChoices):
    """How the review queue orders what nobody has decided on yet (inference.ml.active)."""

    ACTIVE = "active", "Most informative first"
    UNCERTAINTY = "uncertainty", "Closest to the threshold first"
    HIGHEST = "highest", "Highest score first"
    RANDOM = "random", "Random order"


class LearningSettings(models.Model):
    """How a collection learns from its reviews."""

    collection = models.OneToOneField(Collection, on_delete=models.CASCADE, related_name="learning_settings")
    review_strategy = models.CharField(
        max_length=16, choices=ReviewStrategy.choices, default=ReviewStrategy.ACTIVE
    )
    retrain_after_reviews = models.PositiveIntegerField(
        default=0, help_text="Train a new version after this many new decisions (0: only on demand)"
    )
    algorithm = models.CharField(max_length=32, default="patchcore_ss")
    score_new_uploads = models.BooleanField(
        default=False, help_text="Score newly added images with the promoted version"
    )
    promote_better_child = models.BooleanField(
        default=False,
        help_text="Promote a new version automatically when it beats the promoted one on the same test split",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"learning settings of {self.collection}"


class Resolution(models.TextChoices):
    KEPT_LABEL = "kept_label", "The human label stands"
    TOOK_REVIEW = "took_review", "The review's decision became the label"


class Disagreement(models.Model):
    """A review decision that contradicts an image's existing human label. The label is left as it
    was until someone resolves the disagreement, one way or the other."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="disagreement")
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="disagreements")
    label_verdict = models.CharField(max_length=10, help_text="The human label the review contradicts")
    label_version = models.PositiveIntegerField(help_text="The annotation version it contradicts")
    review_verdict = models.CharField(max_length=10, help_text="The verdict the review's decision means")
    review_regions = models.JSONField(
        null=True, blank=True, help_text="The regions the review would have written (null: keep the label's)"
    )
    resolution = models.CharField(max_length=12, choices=Resolution.choices, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["image", "resolved_at"])]

    def __str__(self) -> str:
        return f"review {self.review_id} against label v{self.label_version} of image {self.image_id}"
