"""What the line's routes take and give. Related objects are given by id only: nothing here can list
another team's objects."""

from rest_framework import serializers

from config.api import MAX_BIGINT
from line.models import Inspection, LinePolicy, Station


class StationOutput(serializers.ModelSerializer):
    collection = serializers.IntegerField(source="collection_id", read_only=True)
    created_by = serializers.CharField(source="created_by.get_username", read_only=True, default=None)
    revoked = serializers.SerializerMethodField()

    class Meta:
        model = Station
        fields = [
            "id",
            "collection",
            "name",
            "key_prefix",
            "created_by",
            "created_at",
            "revoked",
            "revoked_at",
        ]
        fields += ["last_used_at"]

    def get_revoked(self, station: Station) -> bool:
        return station.revoked_at is not None


class StationCreatedOutput(StationOutput):
    key = serializers.CharField(help_text="The station's key: shown this once, stored only as its hash")

    class Meta(StationOutput.Meta):
        fields = [*StationOutput.Meta.fields, "key"]


class InspectionRecordOutput(serializers.ModelSerializer):
    collection = serializers.IntegerField(source="collection_id", read_only=True)
    station = serializers.IntegerField(source="station_id", read_only=True, allow_null=True)
    station_name = serializers.CharField(source="station.name", read_only=True, default=None)
    model_version = serializers.IntegerField(source="model_version_id", read_only=True, allow_null=True)
    image = serializers.IntegerField(
        source="image_id",
        read_only=True,
        allow_null=True,
        help_text="The kept image, when the policy kept it",
    )
    decision = serializers.SerializerMethodField()

    class Meta:
        model = Inspection
        fields = ["id", "collection", "station", "station_name", "model_version", "name", "score"]
        fields += ["normalized_score", "decision", "image", "created_at"]

    def get_decision(self, inspection: Inspection) -> str:
        return "defective" if inspection.is_defective else "normal"


class StationInput(serializers.Serializer):
    collection = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT)
    name = serializers.CharField(max_length=100)


class InspectionResultOutput(serializers.Serializer):
    name = serializers.CharField()
    score = serializers.FloatField(help_text="Raw image score, the version's units")
    normalized_score = serializers.FloatField(help_text="0 to 1; 0.5 is the threshold")
    decision = serializers.ChoiceField(choices=["defective", "normal"])
    regions = serializers.ListField(
        child=serializers.DictField(), help_text="Flagged regions: x, y, width, height, area, peak (image px)"
    )
    heatmap = serializers.CharField(
        required=False,
        help_text="With ?heatmap=true: the anomaly map as a base64 8-bit greyscale PNG (0 is the version's "
        "heatmap_low, 255 its heatmap_high)",
    )


class InspectionOutput(serializers.Serializer):
    model_version = serializers.IntegerField()
    results = InspectionResultOutput(many=True)


class LinePolicyOutput(serializers.ModelSerializer):
    collection = serializers.IntegerField(source="collection_id", read_only=True)

    class Meta:
        model = LinePolicy
        fields = [
            "collection",
            "keep_flagged",
            "keep_band",
            "keep_passed_share",
            "drift_window",
            "drift_alpha",
            "max_reject_rate",
            "updated_at",
        ]


class LinePolicyInput(serializers.ModelSerializer):
    keep_band = serializers.FloatField(min_value=0.0, max_value=0.5)
    keep_passed_share = serializers.FloatField(min_value=0.0, max_value=1.0)
    drift_window = serializers.IntegerField(min_value=20, max_value=100_000)
    drift_alpha = serializers.FloatField(min_value=1e-6, max_value=0.5)
    max_reject_rate = serializers.FloatField(min_value=0.0, max_value=1.0)

    class Meta:
        model = LinePolicy
        fields = [
            "keep_flagged",
            "keep_band",
            "keep_passed_share",
            "drift_window",
            "drift_alpha",
            "max_reject_rate",
        ]


class DriftPointOutput(serializers.Serializer):
    until = serializers.DateTimeField()
    count = serializers.IntegerField()
    ks_statistic = serializers.FloatField()
    ks_critical = serializers.FloatField()
    reject_rate = serializers.FloatField()
    reject_ceiling = serializers.FloatField()


class DriftOutput(serializers.Serializer):
    state = serializers.ChoiceField(choices=["ok", "alert", "unknown"])
    reason = serializers.CharField()
    model_version = serializers.IntegerField(required=False)
    reference_count = serializers.IntegerField(required=False)
    recent_count = serializers.IntegerField(required=False)
    ks_statistic = serializers.FloatField(required=False)
    ks_critical = serializers.FloatField(required=False)
    alpha = serializers.FloatField(required=False)
    reject_rate = serializers.FloatField(required=False)
    expected_reject_rate = serializers.FloatField(required=False)
    reject_ceiling = serializers.FloatField(required=False)
    since = serializers.DateTimeField(required=False)
    series = DriftPointOutput(many=True)
