"""Projects, their members, image collections and the human labels on them.

An image's current labels live in one `Annotation` (verdict + regions) with a version number for
optimistic concurrency; every change to it appends an `AnnotationRevision` holding the full state
after the change, so nothing a person labeled is ever lost.
"""

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer"
    ANNOTATOR = "annotator"
    REVIEWER = "reviewer"
    MANAGER = "manager"


# Each role can do everything the ones before it can.
ROLE_RANK = {Role.VIEWER: 0, Role.ANNOTATOR: 1, Role.REVIEWER: 2, Role.MANAGER: 3}


class Project(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Names are unique, whatever their case, only among the projects one user can see
        # (services.projects: ProjectNameTaken): an instance-wide rule would tell anyone who tried a
        # name that another team has a project of that name.
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user")]
        ordering = ["project_id", "user_id"]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} as {self.role}"


class Collection(models.Model):
    """One product or camera view; models are trained per collection."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="collections")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when archived: kept whole, read-only, out of the lists"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="collection_unique_name")]
        ordering = ["project_id", "name"]

    def __str__(self) -> str:
        return self.name


class DefectType(models.Model):
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="defect_types")
    name = models.CharField(max_length=100)
    color = models.CharField(max_length=7, default="#e6194b", help_text="#rrggbb")
    hotkey = models.CharField(max_length=1, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["collection", "name"], name="defecttype_unique_name")]
        ordering = ["collection_id", "name"]

    def __str__(self) -> str:
        return self.name


class Split(models.TextChoices):
    TRAIN = "train"
    TEST = "test"
    UNASSIGNED = "unassigned"


class Image(models.Model):
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="images")
    # A generated storage key, never the uploaded name (kept in `original_name` for people).
    file = models.FileField(max_length=300)
    thumbnail = models.FileField(max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    format = models.CharField(max_length=8, help_text="Detected from the content: PNG, JPEG, BMP, TIFF, WEBP")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    mode = models.CharField(max_length=8, help_text="Pillow mode, e.g. L, RGB, I;16")
    bit_depth = models.PositiveSmallIntegerField()
    size_bytes = models.PositiveBigIntegerField()
    split = models.CharField(max_length=10, choices=Split.choices, default=Split.UNASSIGNED)
    source = models.CharField(
        max_length=100, blank=True, help_text="How it arrived: upload, import:mvtec, ..."
    )
    metadata = models.JSONField(default=dict, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["collection", "sha256"], name="image_unique_content")]
        # A grid page walks one of these in id order from its cursor, and stops after one page.
        indexes = [
            models.Index(fields=["collection", "id"], name="image_collection_order"),
            models.Index(fields=["collection", "split", "id"], name="image_collection_split_order"),
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name or f"image {self.pk}"


class Verdict(models.TextChoices):
    UNLABELED = "unlabeled"
    NORMAL = "normal"
    DEFECTIVE = "defective"
    UNSURE = "unsure"


class Annotation(models.Model):
    """The current human truth about one image."""

    image = models.OneToOneField(Image, on_delete=models.CASCADE, related_name="annotation")
    verdict = models.CharField(max_length=10, choices=Verdict.choices, default=Verdict.UNLABELED)
    # Bumped by every change; a writer must name the version it read (see services/annotations.py).
    version = models.PositiveIntegerField(default=0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["verdict"])]

    def __str__(self) -> str:
        return f"{self.image}: {self.verdict} (v{self.version})"


class RegionKind(models.TextChoices):
    BOX = "box"
    POLYGON = "polygon"
    MASK = "mask"
    SCRIBBLE = "scribble"
    POINT = "point"


class Precision(models.TextChoices):
    EXACT = "exact"
    ROUGH = "rough"


class Region(models.Model):
    """One marked area of an annotation; `geometry` is in image pixels (see annotations/geometry.py)."""

    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="regions")
    defect_type = models.ForeignKey(
        DefectType, null=True, blank=True, on_delete=models.PROTECT, related_name="regions"
    )
    kind = models.CharField(max_length=10, choices=RegionKind.choices)
    precision = models.CharField(max_length=5, choices=Precision.choices, default=Precision.EXACT)
    geometry = models.JSONField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.annotation.image}"


class RevisionReason(models.TextChoices):
    MANUAL_EDIT = "manual_edit"
    REVIEW = "review"
    IMPORT = "import"
    SUGGESTION = "suggestion"


class AnnotationRevision(models.Model):
    """Append-only: the state of an annotation right after its change number `version`."""

    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    regions = models.JSONField(default=list)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=16, choices=RevisionReason.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["annotation", "version"], name="revision_unique_version")
        ]
        ordering = ["annotation_id", "version"]

    def __str__(self) -> str:
        return f"{self.annotation.image} v{self.version} ({self.reason})"
