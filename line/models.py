"""The production line's side of a collection: the stations that inspect its parts, every inspection
they made, and which of the line's images come back for review.

A station is a line-side client with a key that can inspect and do nothing else; the key is shown
once and only its SHA-256 is kept.
"""

from django.conf import settings
from django.db import models

from annotations.models import Collection, Image
from inference.models import ModelVersion


class Station(models.Model):
    """A line-side client of one collection, known by its key (stored hashed)."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="stations")
    name = models.CharField(max_length=100)
    key_prefix = models.CharField(max_length=16, help_text="The key's first characters, to tell keys apart")
    key_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the key, hex")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"station {self.name!r} of {self.collection}"


class Inspection(models.Model):
    """One image inspected from the line: who sent it, which version judged it, and what it said."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="inspections")
    station = models.ForeignKey(
        Station, null=True, blank=True, on_delete=models.SET_NULL, related_name="inspections"
    )
    # A manager trying the endpoint out (no station).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    model_version = models.ForeignKey(
        ModelVersion, null=True, on_delete=models.SET_NULL, related_name="inspections"
    )
    name = models.CharField(max_length=255, blank=True)
    score = models.FloatField(help_text="Raw image score, the version's units")
    normalized_score = models.FloatField()
    is_defective = models.BooleanField()
    # The image, when the collection's policy kept it for review (source "production").
    image = models.ForeignKey(Image, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["collection", "-id"])]

    def __str__(self) -> str:
        return f"inspection {self.pk} of {self.collection}: {self.normalized_score:.3f}"


class LinePolicy(models.Model):
    """Which line images a collection keeps for review, and the bands its drift alert watches."""

    collection = models.OneToOneField(Collection, on_delete=models.CASCADE, related_name="line_policy")
    keep_flagged = models.BooleanField(default=True, help_text="Keep every image judged defective")
    keep_band = models.FloatField(
        default=0.1, help_text="Keep images whose normalised score is within this of the threshold (0.5)"
    )
    keep_passed_share = models.FloatField(
        default=0.02, help_text="Share of the other, passed images kept at random (0 to 1)"
    )
    drift_window = models.PositiveIntegerField(
        default=500, help_text="Recent inspections the drift statistics look at"
    )
    drift_alpha = models.FloatField(
        default=0.01, help_text="Significance at which the score distribution counts as shifted"
    )
    max_reject_rate = models.FloatField(
        default=0.1, help_text="Reject rate above which the line is alerted (unless validation expects more)"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"line policy of {self.collection}"
