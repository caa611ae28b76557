"""Input serializers validate at the edge (every 400 comes from here); output serializers only render.

Ids in request bodies are looked up through the membership-scoped selectors, so another team's object
gets the same "does not exist" answer as an id that was never used.
"""

import re
from collections.abc import Callable
from typing import Any

from django.db.models import Model, QuerySet
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotations import selectors
from annotations.geometry import GeometryError, validate_geometry
from annotations.models import (
    Annotation,
    AnnotationRevision,
    Collection,
    DefectType,
    Image,
    Membership,
    Precision,
    Project,
    RegionKind,
    Role,
    Split,
    Verdict,
)
from config.api import MAX_BIGINT

# --- shared fields ------------------------------------------------------------------------------


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An id resolved among the objects the requesting user can see (a selector decides which)."""

    def __init__(self, selector: Callable[..., QuerySet], model: type[Model], **kwargs: Any) -> None:
        self.selector = selector
        # The model's empty queryset only tells the schema generator the id's type.
        super().__init__(queryset=model.objects.none(), **kwargs)

    def get_queryset(self) -> QuerySet:
        return self.selector(user=self.context["request"].user)

    def to_internal_value(self, data: Any) -> Model:
        # An id is a whole number of 64 bits: not true (1 to Python), 1.5 (1 to the database), '٣'
        # or 20 digits, which the database would round, coerce or overflow on.
        if isinstance(data, str) and data.isascii() and data.isdigit():
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= data <= MAX_BIGINT:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


def annotation_etag(image_id: int, version: int) -> str:
    """The ETag of an image's annotation at a version (`annotation_etag_version` reads it back)."""
    return f'"image-{image_id}-v{version}"'


# At most 18 digits: a version that fits a 64-bit integer (a longer one names no version there is).
ANNOTATION_ETAG = re.compile(r'"image-(?P<image>[0-9]+)-v(?P<version>[0-9]{1,18})"')


def annotation_etag_version(etag: str, image_id: int) -> int | None:
    """The version an entity tag names, if it is an ETag of this image's annotation; else None."""
    match = ANNOTATION_ETAG.fullmatch(etag)
    return int(match["version"]) if match and int(match["image"]) == image_id else None


# --- projects and members -----------------------------------------------------------------------


class ProjectOutput(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "name", "description", "created_at"]


class ProjectInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class MembershipOutput(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "project", "user", "username", "role", "created_at"]


class MembershipCreateInput(serializers.Serializer):
    project = ScopedPrimaryKeyRelatedField(selectors.project_list, Project)
    # Looked up by the service, once the caller is known to be a manager (whether an account exists
    # is for managers to learn).
    username = serializers.CharField(max_length=254, help_text="the account's username or e-mail address")
    role = serializers.ChoiceField(choices=Role.choices)


class MembershipUpdateInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


# --- collections and defect types ---------------------------------------------------------------


class CollectionOutput(serializers.ModelSerializer):
    class Meta:
        model = Collection
        fields = ["id", "project", "name", "description", "created_at", "archived_at"]


class CollectionInput(serializers.Serializer):
    project = ScopedPrimaryKeyRelatedField(selectors.project_list, Project)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        project = attrs.get("project", getattr(self.instance, "project", None))
        name = attrs.get("name")
        if name is not None:
            clashes = Collection.objects.filter(project=project, name=name)
            if self.instance is not None:
                clashes = clashes.exclude(pk=self.instance.pk)
            if clashes.exists():
                raise serializers.ValidationError(
                    {"name": [f"the project already has a collection {name!r}"]}
                )
        return attrs


class CollectionUpdateInput(CollectionInput):
    project = None  # a collection stays in its project


COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class DefectTypeOutput(serializers.ModelSerializer):
    class Meta:
        model = DefectType
        fields = ["id", "collection", "name", "color", "hotkey"]


class DefectTypeInput(serializers.Serializer):
    collection = ScopedPrimaryKeyRelatedField(selectors.collection_list, Collection)
    name = serializers.CharField(max_length=100)
    color = serializers.RegexField(
        COLOR, required=False, help_text="#rrggbb; the collection's next colour when left out"
    )
    hotkey = serializers.CharField(max_length=1, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        collection = attrs.get("collection", getattr(self.instance, "collection", None))
        name = attrs.get("name")
        if name is not None:
            clashes = DefectType.objects.filter(collection=collection, name=name)
            if self.instance is not None:
                clashes = clashes.exclude(pk=self.instance.pk)
            if clashes.exists():
                raise serializers.ValidationError(
                    {"name": [f"the collection already has a defect type {name!r}"]}
                )
        return attrs


class DefectTypeUpdateInput(DefectTypeInput):
    collection = None  # a defect type stays in its collection


# --- images -------------------------------------------------------------------------------------


class ImageOutput(serializers.ModelSerializer):
    verdict = serializers.CharField(source="annotation.verdict", read_only=True)
    annotation_version = serializers.IntegerField(source="annotation.version", read_only=True)
    file_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = Image
        fields = [
            "id",
            "collection",
            "original_name",
            "format",
            "width",
            "height",
            "mode",
            "bit_depth",
            "size_bytes",
            "sha256",
            "split",
            "source",
            "metadata",
            "uploaded_by",
            "created_at",
            "verdict",
            "annotation_version",
            "file_url",
            "thumbnail_url",
        ]

    def _url(self, name: str, image: Image) -> str:
        path = reverse(name, kwargs={"pk": image.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    @extend_schema_field(OpenApiTypes.URI)
    def get_file_url(self, image: Image) -> str:
        return self._url("image-file", image)

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail_url(self, image: Image) -> str:
        return self._url("image-thumbnail", image)


class ImageUploadInput(serializers.Serializer):
    collection = ScopedPrimaryKeyRelatedField(selectors.collection_list, Collection)
    # Empty files pass here so that image_inspect gives every file's verdict in one place.
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True, use_url=False),
        allow_empty=False,
        help_text="One or more image files (PNG, JPEG, BMP, TIFF, WEBP); repeat the field for each",
    )


class UploadRejection(serializers.Serializer):
    name = serializers.CharField()
    error = serializers.CharField()


class UploadRejectedOutput(serializers.Serializer):
    detail = serializers.CharField()
    files = UploadRejection(many=True)


class UploadResult(serializers.Serializer):
    name = serializers.CharField()
    created = serializers.BooleanField(help_text="False when the collection already held this content")
    image = ImageOutput()


class UploadOutput(serializers.Serializer):
    files = UploadResult(many=True)


class ImageUpdateInput(serializers.Serializer):
    split = serializers.ChoiceField(choices=Split.choices)


class ImageBulkInput(serializers.Serializer):
    images = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_BIGINT),
        allow_empty=False,
        max_length=1000,
        help_text="Ids of images of one project",
    )
    verdict = serializers.ChoiceField(choices=Verdict.choices, required=False)
    split = serializers.ChoiceField(choices=Split.choices, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "verdict" not in attrs and "split" not in attrs:
            raise serializers.ValidationError("say what to change: `verdict`, `split` or both")
        return attrs


class ImageBulkOutput(serializers.Serializer):
    changed = serializers.IntegerField(help_text="Images that were changed")
    unchanged = serializers.IntegerField(help_text="Images that already were as asked")


# --- annotations --------------------------------------------------------------------------------


class RegionSerializer(serializers.Serializer):
    """A region, as read and as written; geometry is in image pixels (see annotations/geometry.py)."""

    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=RegionKind.choices)
    geometry = serializers.JSONField()
    precision = serializers.ChoiceField(choices=Precision.choices, default=Precision.EXACT)
    defect_type = serializers.IntegerField(
        source="defect_type_id",
        min_value=1,
        max_value=MAX_BIGINT,
        allow_null=True,
        required=False,
        default=None,
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A region is always written whole, also inside a PATCH (where DRF skips required fields and
        # defaults of nested serializers).
        missing = [name for name in ("kind", "geometry") if name not in attrs]
        if missing:
            raise serializers.ValidationError({name: ["This field is required."] for name in missing})
        attrs.setdefault("precision", Precision.EXACT)
        attrs.setdefault("defect_type_id", None)
        image: Image = self.context["image"]
        try:
            attrs["geometry"] = validate_geometry(
                attrs["kind"], attrs["geometry"], width=image.width, height=image.height
            )
        except GeometryError as error:
            raise serializers.ValidationError({"geometry": [str(error)]}) from None
        return attrs


class AnnotationOutput(serializers.ModelSerializer):
    image = serializers.IntegerField(source="image_id", read_only=True)
    regions = RegionSerializer(many=True, read_only=True)
    updated_by = serializers.CharField(source="updated_by.username", read_only=True, allow_null=True)
    etag = serializers.SerializerMethodField()

    class Meta:
        model = Annotation
        fields = ["image", "verdict", "regions", "version", "etag", "updated_by", "updated_at"]

    def get_etag(self, annotation: Annotation) -> str:
        return annotation_etag(annotation.image_id, annotation.version)


def defect_types_check(image: Image, regions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validated regions whose defect types all belong to the image's collection."""
    allowed = set(DefectType.objects.filter(collection_id=image.collection_id).values_list("id", flat=True))
    unknown = sorted({r["defect_type_id"] for r in regions if r["defect_type_id"] not in allowed | {None}})
    if unknown:
        # The same words for another team's defect type as for one that never existed.
        raise serializers.ValidationError(
            f"defect type(s) {', '.join(map(str, unknown))} do not exist in this image's collection"
        )
    return regions


class AnnotationWriteInput(serializers.Serializer):
    """PUT needs `verdict` and `regions`; PATCH changes only the ones given."""

    verdict = serializers.ChoiceField(choices=Verdict.choices)
    regions = RegionSerializer(many=True, help_text="Replaces all the image's regions")
    version = serializers.IntegerField(
        min_value=0,
        max_value=MAX_BIGINT,
        required=False,
        help_text="The version the change is based on; or send it as If-Match",
    )

    def validate_regions(self, regions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return defect_types_check(self.context["image"], regions)


class StaleOutput(serializers.Serializer):
    detail = serializers.CharField()
    current_version = serializers.IntegerField()
    etag = serializers.CharField()


class RevisionOutput(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True, allow_null=True)
    regions = serializers.JSONField(help_text="The regions right after this change")

    class Meta:
        model = AnnotationRevision
        fields = ["version", "verdict", "regions", "author", "reason", "comment", "created_at"]
