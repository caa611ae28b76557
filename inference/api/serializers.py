from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotations import selectors as annotation_selectors
from annotations.api.serializers import RegionSerializer, ScopedPrimaryKeyRelatedField, defect_types_check
from annotations.models import Collection
from config.api import MAX_BIGINT
from inference import selectors
from inference.ml import catalogue
from inference.models import (
    Decision,
    FalsePositiveReason,
    Job,
    JobKind,
    ModelExport,
    ModelVersion,
    ModelVersionStatus,
    Prediction,
    Review,
)
from inference.services.job_kinds import JOB_KINDS
from inference.services.reviews import QueueScope
from inference.services.snapshots import snapshot_counts
from inference.services.versions import model_version_threshold_range


class JobOutput(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "collection",
            "model_version",
            "parameters",
            "progress",
            "message",
            "failure_reason",
            "result",
            "attempts",
            "max_attempts",
            "cancel_requested",
            "heartbeat_at",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]


class JobCreateInput(serializers.Serializer):
    """`train` needs `collection` (and optionally `algorithm`, `parameters`, `parent`); `score`,
    `evaluate` and `export` need `model_version`."""

    kind = serializers.ChoiceField(choices=[spec.kind for spec in JOB_KINDS if spec.start_role])
    collection = ScopedPrimaryKeyRelatedField(
        annotation_selectors.collection_list, Collection, required=False
    )
    model_version = ScopedPrimaryKeyRelatedField(selectors.model_version_list, ModelVersion, required=False)
    algorithm = serializers.ChoiceField(choices=list(catalogue.ALGORITHMS), default="patchcore")
    parameters = serializers.DictField(required=False, default=dict, help_text='e.g. {"image_size": 256}')
    parent = ScopedPrimaryKeyRelatedField(selectors.model_version_list, ModelVersion, required=False)
    score_after = serializers.BooleanField(default=True, help_text="train: score the collection when done")

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["kind"] == JobKind.TRAIN:
            if "collection" not in data:
                raise serializers.ValidationError({"collection": ["training needs the collection to train"]})
            parent = data.get("parent")
            if parent is not None and parent.collection_id != data["collection"].pk:
                raise serializers.ValidationError(
                    {"parent": ["the parent model belongs to another collection"]}
                )
            data["parameters"] = self._check_parameters(data["algorithm"], data["parameters"])
        else:
            version = data.get("model_version")
            if version is None:
                raise serializers.ValidationError({"model_version": [f"a {data['kind']} job needs a model"]})
            if version.status != ModelVersionStatus.READY:
                raise serializers.ValidationError(
                    {"model_version": [f"model {version.pk} is {version.status}; wait until it is ready"]}
                )
            data["collection"] = version.collection
        return data

    def _check_parameters(self, algorithm: str, parameters: dict[str, Any]) -> dict[str, Any]:
        try:
            return catalogue.parameters_check(algorithm, parameters)
        except ValueError as error:
            raise serializers.ValidationError({"parameters": [str(error)]}) from None


class ModelVersionOutput(serializers.ModelSerializer):
    snapshot_counts = serializers.SerializerMethodField(
        help_text="Images of the version's data snapshot per role (train, test, labeled, hard_normal)"
    )

    def get_snapshot_counts(self, version: ModelVersion) -> dict[str, int]:
        return snapshot_counts(snapshot=version.snapshot)

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "collection",
            "status",
            "algorithm",
            "backbone",
            "parameters",
            "parent",
            "metrics",
            "threshold",
            "threshold_method",
            "pixel_threshold",
            "normalizer",
            "heatmap_low",
            "heatmap_high",
            "fit_seconds",
            "peak_memory_bytes",
            "device",
            "snapshot",
            "snapshot_counts",
            "created_by",
            "created_at",
            "threshold_set_at",
            "threshold_set_by",
            "promoted_at",
            "promoted_by",
        ]


class VersionScoreOutput(serializers.Serializer):
    image = serializers.IntegerField()
    score = serializers.FloatField(help_text="Raw image score")
    normalized_score = serializers.FloatField()
    label = serializers.IntegerField(
        allow_null=True, help_text="The image's current verdict: 1 defective, 0 normal, null otherwise"
    )


class VersionScoresOutput(serializers.Serializer):
    threshold = serializers.FloatField(allow_null=True, help_text="Raw units; defective at or above it")
    scores = VersionScoreOutput(many=True)
    next = serializers.CharField(allow_null=True, help_text="The next page of scores; null on the last")


class VersionScoresQuery(serializers.Serializer):
    after = serializers.IntegerField(
        min_value=0,
        max_value=2**63 - 1,
        default=0,
        help_text="Scores of images with larger ids (`next` sets it)",
    )


class ThresholdInput(serializers.Serializer):
    """Needs the version in its context: the threshold must lie within its score range."""

    threshold = serializers.FloatField(help_text="Raw image score units, within the version's score range")

    def validate_threshold(self, value: float) -> float:
        low, high = model_version_threshold_range(version=self.context["version"])
        if not low <= value <= high:
            raise serializers.ValidationError(
                f"{value:g} is outside this model's score range: choose a threshold from {low:g} to {high:g}"
            )
        return value


class ExportFileOutput(serializers.Serializer):
    name = serializers.CharField(help_text="Path inside the export, e.g. model.onnx or openvino/model.xml")
    size = serializers.IntegerField(help_text="Bytes")
    url = serializers.CharField(help_text="Where to download it")


class ParityOutput(serializers.Serializer):
    """One runtime against PyTorch on the same images."""

    runtime = serializers.CharField(help_text="onnxruntime, openvino_fp32 or openvino_fp16")
    images = serializers.IntegerField(help_text="Images compared")
    max_score_diff = serializers.FloatField(help_text="Largest difference of the normalised score")
    max_map_diff = serializers.FloatField(help_text="Largest map difference, relative to the map's range")
    flipped = serializers.IntegerField(help_text="Images whose decision differs")
    passed = serializers.BooleanField(help_text="Within the tolerance with no decision flipped")


class ExportOutput(serializers.ModelSerializer):
    files = serializers.SerializerMethodField()
    parity = ParityOutput(many=True, read_only=True)

    class Meta:
        model = ModelExport
        fields = [
            "id",
            "model_version",
            "job",
            "status",
            "files",
            "manifest",
            "parity",
            "failure_reason",
            "created_by",
            "created_at",
        ]

    @extend_schema_field(ExportFileOutput(many=True))
    def get_files(self, export: ModelExport) -> list[dict[str, Any]]:
        return [
            {**entry, "url": reverse("export-file", args=[export.pk, entry["name"]])}
            for entry in export.files
        ]


class PredictionOutput(serializers.ModelSerializer):
    heatmap = serializers.SerializerMethodField()
    overlay = serializers.SerializerMethodField()

    class Meta:
        model = Prediction
        fields = [
            "id",
            "model_version",
            "image",
            "score",
            "normalized_score",
            "is_defective",
            "regions",
            "nearest_normal",
            "heatmap_low",
            "heatmap_high",
            "heatmap",
            "overlay",
            "created_at",
        ]

    def _url(self, prediction: Prediction, name: str) -> str:
        return f"/api/v1/predictions/{prediction.pk}/{name}/"

    def get_heatmap(self, prediction: Prediction) -> str:
        return self._url(prediction, "heatmap")

    def get_overlay(self, prediction: Prediction) -> str:
        return self._url(prediction, "overlay")


class OverlayQuery(serializers.Serializer):
    opacity = serializers.FloatField(min_value=0, max_value=1, default=0.5)
    size = serializers.IntegerField(
        min_value=16, max_value=8192, required=False, help_text="longest side, px"
    )


class ReviewOutput(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username", read_only=True, allow_null=True)
    image = serializers.IntegerField(source="prediction.image_id", read_only=True)
    image_name = serializers.CharField(source="prediction.image", read_only=True)
    model_version = serializers.IntegerField(source="prediction.model_version_id", read_only=True)
    annotation_version = serializers.IntegerField(source="revision.version", read_only=True, allow_null=True)

    class Meta:
        model = Review
        fields = [
            "id",
            "prediction",
            "image",
            "image_name",
            "model_version",
            "reviewer",
            "decision",
            "reason",
            "comment",
            "annotation_version",
            "created_at",
        ]


class ReviewCreateInput(serializers.Serializer):
    """A decision on a prediction. `version` is the image's annotation version it was taken on;
    `regions`, when sent, replace the image's regions (corrections made while reviewing)."""

    prediction = ScopedPrimaryKeyRelatedField(selectors.prediction_list, Prediction)
    decision = serializers.ChoiceField(choices=Decision.choices)
    reason = serializers.ChoiceField(
        choices=FalsePositiveReason.choices, required=False, default="", allow_blank=True
    )
    comment = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)
    version = serializers.IntegerField(min_value=0, max_value=MAX_BIGINT)
    regions = serializers.ListField(child=serializers.DictField(), required=False, allow_null=True)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["reason"] and data["decision"] != Decision.FALSE_POSITIVE:
            raise serializers.ValidationError({"reason": ["a reason only goes with a false positive"]})
        if data.get("regions") is not None:
            regions = RegionSerializer(
                data=data["regions"], many=True, context={"image": data["prediction"].image}
            )
            regions.is_valid(raise_exception=True)
            try:
                data["regions"] = defect_types_check(data["prediction"].image, regions.validated_data)
            except serializers.ValidationError as error:
                raise serializers.ValidationError({"regions": error.detail}) from None
        return data


class ReviewNextInput(serializers.Serializer):
    model_version = ScopedPrimaryKeyRelatedField(selectors.model_version_list, ModelVersion)
    scope = serializers.ChoiceField(
        choices=[scope.value for scope in QueueScope],
        default=QueueScope.NEW.value,
        help_text="new: images without a human label, outside the train split; all: every undecided one",
    )


class ReviewReleaseInput(serializers.Serializer):
    prediction = ScopedPrimaryKeyRelatedField(selectors.prediction_list, Prediction)


class ReviewItemOutput(serializers.Serializer):
    """The item a reviewer holds: the prediction, the image and its current labels."""

    prediction = PredictionOutput()
    image = serializers.DictField()
    annotation = serializers.DictField()
    claimed_until = serializers.DateTimeField()
    pending = serializers.IntegerField(help_text="Items nobody has decided on yet, this one included")
