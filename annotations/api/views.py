"""The REST API: thin ViewSets. Reads come from `annotations.selectors` (scoped by membership, so another
team's object is a 404), writes go through `annotations.services`, input is validated by the
serializers, and `permissions.ProjectRole` gates writes by role."""

from pathlib import PurePath

from django.db.models import Model, QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from annotations import selectors
from annotations.api import filters
from annotations.api import serializers as s
from annotations.api.pagination import RevisionCursorPagination
from annotations.api.permissions import role_require
from annotations.models import Annotation, Collection, Image, RevisionReason, Role
from annotations.services.annotations import RegionInput, StaleAnnotation, annotation_update
from annotations.services.bulk import images_bulk_update
from annotations.services.ingest import (
    EXTENSIONS,
    atomic_with_files,
    image_delete,
    image_update,
    images_store,
    uploads_inspect,
)
from annotations.services.projects import (
    AlreadyMember,
    DefectTypeInUse,
    LastManager,
    NoSuchAccount,
    ProjectNameTaken,
    collection_archive,
    collection_create,
    collection_delete,
    collection_restore,
    collection_update,
    defect_type_create,
    defect_type_delete,
    defect_type_update,
    membership_create,
    membership_delete,
    membership_update,
    project_create,
    project_update,
)
from config.api import BAD_REQUEST, ERROR_SCHEMA, DetailOutput, FileNegotiation, ScopedViewSet
from config.http import MalformedIfMatch, if_match, stored_file

CONTENT_TYPES = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
    "WEBP": "image/webp",
}


@extend_schema_view(
    create=extend_schema(request=s.ProjectInput, responses={201: s.ProjectOutput}),
    partial_update=extend_schema(request=s.ProjectInput, responses={200: s.ProjectOutput}),
)
class ProjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Projects you are a member of. Anyone signed in may create one and becomes its manager."""

    output_serializer = s.ProjectOutput
    filterset_class = filters.ProjectFilterSet
    action_roles = {"partial_update": Role.MANAGER}

    def get_queryset(self) -> QuerySet:
        return selectors.project_list(user=self.request.user)

    def project_id_of(self, obj: Model) -> int:
        return obj.pk

    def create(self, request: Request) -> Response:
        data = self.input(s.ProjectInput)
        try:
            project = project_create(created_by=request.user, **data)
        except ProjectNameTaken as error:
            raise ValidationError({"name": [str(error)]}) from None
        return self.output(project, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        project = self.get_object()
        data = self.input(s.ProjectInput, instance=project)
        try:
            return self.output(project_update(project=project, changed_by=request.user, **data))
        except ProjectNameTaken as error:
            raise ValidationError({"name": [str(error)]}) from None


@extend_schema_view(
    create=extend_schema(
        request=s.MembershipCreateInput, responses={201: s.MembershipOutput, 400: BAD_REQUEST}
    ),
    partial_update=extend_schema(
        request=s.MembershipUpdateInput, responses={200: s.MembershipOutput, 400: BAD_REQUEST}
    ),
    destroy=extend_schema(responses={204: None, 400: BAD_REQUEST}),
)
class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Members and their roles. Managers add members by username, change roles and remove members;
    a project always keeps one manager."""

    output_serializer = s.MembershipOutput
    filterset_class = filters.MembershipFilterSet
    action_roles = {"partial_update": Role.MANAGER, "destroy": Role.MANAGER}

    def get_queryset(self) -> QuerySet:
        return selectors.membership_list(user=self.request.user)

    def project_id_of(self, obj: Model) -> int:
        return obj.project_id

    def create(self, request: Request) -> Response:
        data = self.input(s.MembershipCreateInput)
        # The role first: only a manager learns from the answer whether an account exists.
        role_require(
            user=request.user, project_id=data["project"].pk, minimum=Role.MANAGER, doing="adding members"
        )
        try:
            membership = membership_create(
                project=data["project"], identifier=data["username"], role=Role(data["role"])
            )
        except (NoSuchAccount, AlreadyMember) as error:
            raise ValidationError({"username": [str(error)]}) from None
        return self.output(membership, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        membership = self.get_object()
        data = self.input(s.MembershipUpdateInput, partial=False)
        try:
            return self.output(membership_update(membership=membership, role=Role(data["role"])))
        except LastManager as error:
            raise ValidationError({"detail": str(error)}) from None

    def destroy(self, request: Request, pk: str) -> Response:
        membership = self.get_object()
        try:
            membership_delete(membership=membership)
        except LastManager as error:
            raise ValidationError({"detail": str(error)}) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    create=extend_schema(request=s.CollectionInput, responses={201: s.CollectionOutput}),
    partial_update=extend_schema(request=s.CollectionUpdateInput, responses={200: s.CollectionOutput}),
)
class CollectionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Image collections: one product or camera view each. Managers create, rename and delete them;
    deleting one deletes its images and labels."""

    output_serializer = s.CollectionOutput
    filterset_class = filters.CollectionFilterSet
    action_roles = {
        "partial_update": Role.MANAGER,
        "destroy": Role.MANAGER,
        "archive": Role.MANAGER,
        "restore": Role.MANAGER,
    }

    def get_queryset(self) -> QuerySet:
        return selectors.collection_list(user=self.request.user)

    def project_id_of(self, obj: Model) -> int:
        return obj.project_id

    def create(self, request: Request) -> Response:
        data = self.input(s.CollectionInput)
        role_require(
            user=request.user,
            project_id=data["project"].pk,
            minimum=Role.MANAGER,
            doing="creating collections",
        )
        return self.output(collection_create(**data), status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        collection = self.get_object()
        data = self.input(s.CollectionUpdateInput, instance=collection)
        return self.output(collection_update(collection=collection, **data))

    def destroy(self, request: Request, pk: str) -> Response:
        collection_delete(collection=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: s.CollectionOutput})
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, pk: str) -> Response:
        """Make the collection read-only and take it out of the lists (`?archived=true` lists it)."""
        return self.output(collection_archive(collection=self.get_object()))

    @extend_schema(request=None, responses={200: s.CollectionOutput})
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: str) -> Response:
        """Open an archived collection again, as it was."""
        return self.output(collection_restore(collection=self.get_object()))


@extend_schema_view(
    create=extend_schema(request=s.DefectTypeInput, responses={201: s.DefectTypeOutput}),
    partial_update=extend_schema(request=s.DefectTypeUpdateInput, responses={200: s.DefectTypeOutput}),
    destroy=extend_schema(responses={204: None, 400: BAD_REQUEST}),
)
class DefectTypeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """A collection's defect types. Managers create, change and delete them (only unused ones)."""

    output_serializer = s.DefectTypeOutput
    filterset_class = filters.DefectTypeFilterSet
    action_roles = {"partial_update": Role.MANAGER, "destroy": Role.MANAGER}

    def get_queryset(self) -> QuerySet:
        return selectors.defect_type_list(user=self.request.user)

    def project_id_of(self, obj: Model) -> int:
        return obj.collection.project_id

    def create(self, request: Request) -> Response:
        data = self.input(s.DefectTypeInput)
        role_require(
            user=request.user,
            project_id=data["collection"].project_id,
            minimum=Role.MANAGER,
            doing="creating defect types",
        )
        return self.output(defect_type_create(**data), status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        defect_type = self.get_object()
        data = self.input(s.DefectTypeUpdateInput, instance=defect_type)
        return self.output(defect_type_update(defect_type=defect_type, **data))

    def destroy(self, request: Request, pk: str) -> Response:
        try:
            defect_type_delete(defect_type=self.get_object())
        except DefectTypeInUse as error:
            raise ValidationError({"detail": str(error)}) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


SUFFIXES = {"PNG": {"png"}, "JPEG": {"jpg", "jpeg", "jpe"}, "BMP": {"bmp"}, "TIFF": {"tif", "tiff"}}


def _download_name(image: Image) -> str:
    """The uploaded name, with the extension of what is stored (applying EXIF rotation re-encodes)."""
    name = PurePath(image.original_name or f"image-{image.pk}")
    extension = EXTENSIONS.get(image.format)
    if extension is None or name.suffix.lower().lstrip(".") in SUFFIXES.get(image.format, {extension}):
        return name.name
    return f"{name.stem}.{extension}"


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='The ETag of the version the change is based on, e.g. "image-7-v3" (or send `version`)',
)


@extend_schema_view(
    create=extend_schema(
        request={"multipart/form-data": s.ImageUploadInput},
        responses={
            201: OpenApiResponse(s.UploadOutput, description="At least one file was new"),
            200: OpenApiResponse(s.UploadOutput, description="Every file was already in the collection"),
            # Either each refused file with its reason (UploadRejectedOutput) or the fields' messages.
            400: OpenApiResponse(ERROR_SCHEMA, description="Nothing was stored; the message says why"),
        },
    ),
    partial_update=extend_schema(request=s.ImageUpdateInput, responses={200: s.ImageOutput}),
)
class ImageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Images, their files and their labels. Annotators upload, move between splits and label;
    managers delete."""

    output_serializer = s.ImageOutput
    filterset_class = filters.ImageFilterSet
    action_roles = {"partial_update": Role.ANNOTATOR, "annotation": Role.ANNOTATOR, "destroy": Role.MANAGER}

    def get_queryset(self) -> QuerySet:
        return selectors.image_list(user=self.request.user)

    def project_id_of(self, obj: Model) -> int:
        # The browsable API asks about the object it renders, which for /annotation/ is the annotation.
        image = obj.image if isinstance(obj, Annotation) else obj
        return image.collection.project_id

    def create(self, request: Request) -> Response:
        """Upload one or more files. Every file is checked before any is stored: one bad file and
        nothing is stored. A file the collection already holds is reported with `created: false`."""
        data = self.input(s.ImageUploadInput)
        collection = data["collection"]
        role_require(
            user=request.user,
            project_id=collection.project_id,
            minimum=Role.ANNOTATOR,
            doing="uploading images",
        )
        # Each file is read where the upload parser left it (on disk when big), one at a time.
        accepted, rejected = uploads_inspect(uploads=[(upload.name, upload) for upload in data["files"]])
        if rejected:
            detail = f"{len(rejected)} of {len(data['files'])} files were rejected, so none was stored"
            errors = [{"name": name, "error": reason} for name, reason in rejected]
            return Response({"detail": detail, "files": errors}, status.HTTP_400_BAD_REQUEST)
        # All or nothing, in the database and in storage, whatever fails after the first file.
        with atomic_with_files():
            stored_images = images_store(collection=collection, accepted=accepted, uploaded_by=request.user)
            self.images_added(collection, [stored.image.pk for stored in stored_images if stored.created])
        results = [
            {"name": name, "created": stored.created, "image": stored.image}
            for (name, _), stored in zip(accepted, stored_images, strict=True)
        ]
        code = status.HTTP_201_CREATED if any(r["created"] for r in results) else status.HTTP_200_OK
        return Response(s.UploadOutput({"files": results}, context=self.get_serializer_context()).data, code)

    def images_added(self, collection: Collection, image_ids: list[int]) -> None:
        """What follows an upload that added these images (nothing here: annotations knows no models)."""

    def partial_update(self, request: Request, pk: str) -> Response:
        image = self.get_object()
        return self.output(
            image_update(image=image, split=self.input(s.ImageUpdateInput, partial=False)["split"])
        )

    @extend_schema(
        request=s.ImageBulkInput,
        responses={
            200: s.ImageBulkOutput,
            400: BAD_REQUEST,
            404: OpenApiResponse(DetailOutput, description="An image named is not one the caller can see"),
        },
    )
    @action(detail=False, methods=["post"], output_serializer=s.ImageBulkOutput)
    def bulk(self, request: Request) -> Response:
        """Set the verdict and/or the split of many images of one project (annotators and above).
        All or nothing: one image that does not exist for you and nothing changes. Every verdict
        change is a revision ("bulk change"); images already as asked are counted as unchanged."""
        data = self.input(s.ImageBulkInput)
        ids = sorted(set(data["images"]))
        projects = dict(self.get_queryset().filter(pk__in=ids).values_list("pk", "collection__project_id"))
        if len(projects) < len(ids):
            raise NotFound()
        if len(set(projects.values())) > 1:
            raise ValidationError({"images": ["the images belong to several projects: send one at a time"]})
        role_require(
            user=request.user,
            project_id=projects[ids[0]],
            minimum=Role.ANNOTATOR,
            doing="changing images",
        )
        result = images_bulk_update(
            image_ids=ids, author=request.user, verdict=data.get("verdict"), split=data.get("split")
        )
        return self.output(result)

    def destroy(self, request: Request, pk: str) -> Response:
        image_delete(image=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        responses={
            **{(200, content_type): OpenApiTypes.BINARY for content_type in CONTENT_TYPES.values()},
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
        }
    )
    @action(detail=True, methods=["get"], content_negotiation_class=FileNegotiation)
    def file(self, request: Request, pk: str) -> FileResponse:
        """The stored original, as uploaded (or upright, when its EXIF orientation was applied)."""
        image = self.get_object()
        response = FileResponse(
            stored_file(image.file.name),
            content_type=CONTENT_TYPES.get(image.format, "application/octet-stream"),
            as_attachment=True,
            filename=_download_name(image),
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, max-age=3600"
        return response

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], content_negotiation_class=FileNegotiation)
    def thumbnail(self, request: Request, pk: str) -> FileResponse:
        """A small 8-bit JPEG preview."""
        response = FileResponse(stored_file(self.get_object().thumbnail.name), content_type="image/jpeg")
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, max-age=3600"
        return response

    @extend_schema(methods=["GET"], responses={200: s.AnnotationOutput})
    @extend_schema(
        methods=["PUT", "PATCH"],
        parameters=[IF_MATCH],
        request=s.AnnotationWriteInput,
        responses={
            200: s.AnnotationOutput,
            400: BAD_REQUEST,
            412: OpenApiResponse(s.StaleOutput, description="Someone changed it since; nothing was changed"),
            428: OpenApiResponse(DetailOutput, description="Neither `version` nor If-Match was sent"),
        },
    )
    @action(detail=True, methods=["get", "put", "patch"], output_serializer=s.AnnotationOutput)
    def annotation(self, request: Request, pk: str) -> Response:
        """The image's current labels, with an ETag. PUT replaces verdict and regions, PATCH changes
        what it names; both need the version they are based on (`version` or If-Match)."""
        image = self.get_object()
        if request.method == "GET":
            response = self.output(image.annotation)
            response["ETag"] = s.annotation_etag(image.pk, image.annotation.version)
            return response
        data = self.input(s.AnnotationWriteInput, image=image)
        regions = data.get("regions")
        try:
            expected = self._expected_version(image, data.get("version"))
            if expected is None:
                return Response(
                    {"detail": "say which version your change is based on: send `version` or If-Match"},
                    status.HTTP_428_PRECONDITION_REQUIRED,
                )
            annotation = annotation_update(
                annotation_id=image.annotation.pk,
                expected_version=expected,
                author=request.user,
                reason=RevisionReason.MANUAL_EDIT,
                verdict=data.get("verdict"),
                regions=None if regions is None else [RegionInput(**region) for region in regions],
            )
        except (StaleAnnotation, _PreconditionFailed) as error:
            return self._stale(image, str(error), error.current_version)
        response = self.output(annotation)
        response["ETag"] = s.annotation_etag(image.pk, annotation.version)
        return response

    def _expected_version(self, image: Image, body_version: int | None) -> int | None:
        """The version named by If-Match (an ETag of this image), else by the body; they must agree."""
        try:
            tags = if_match(self.request)
        except MalformedIfMatch as error:
            raise ValidationError({"If-Match": [str(error)]}) from None
        if tags is None:
            return body_version
        versions = [
            version for tag in tags if (version := s.annotation_etag_version(tag, image.pk)) is not None
        ]
        if not versions:
            # Not an ETag of this image's annotation (or "*"): it cannot match the current version.
            raise _PreconditionFailed(
                f"If-Match {', '.join(tags)} names no version of this annotation: read it again and "
                "send its ETag",
                image.annotation.version,
            )
        if body_version is not None and body_version not in versions:
            raise ValidationError(
                {"version": [f"the body says version {body_version} but If-Match says {versions[0]}"]}
            )
        return versions[0]

    def _stale(self, image: Image, detail: str, current: int) -> Response:
        etag = s.annotation_etag(image.pk, current)
        response = Response({"detail": detail, "current_version": current, "etag": etag}, 412)
        response["ETag"] = etag
        return response

    @extend_schema(responses={200: s.RevisionOutput(many=True)}, filters=False)
    @action(
        detail=True,
        methods=["get"],
        output_serializer=s.RevisionOutput,
        pagination_class=RevisionCursorPagination,
    )
    def revisions(self, request: Request, pk: str) -> Response:
        """Every change to the image's labels, oldest first, with who made it and why."""
        revisions = self.paginate_queryset(selectors.revision_list(image=self.get_object()))
        return self.get_paginated_response(self.output_serializer(revisions, many=True).data)


class _PreconditionFailed(Exception):
    def __init__(self, detail: str, current_version: int) -> None:
        super().__init__(detail)
        self.current_version = current_version
