"""Jobs, model versions and predictions over the REST API, in the style of `annotations.api.views`.

Roles: starting or cancelling training or an export needs a manager; scoring and evaluation a
reviewer; reading (and downloading an export) needs membership only. Long work answers 202 with the
job; poll `/api/v1/jobs/{id}/`.
"""

import hashlib
import posixpath
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Model, QuerySet
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.api import views as annotation_views
from annotations.api.permissions import role_require
from annotations.api.serializers import AnnotationOutput, StaleOutput, annotation_etag
from annotations.models import Collection, Role
from annotations.services.annotations import RegionInput, StaleAnnotation
from config.api import BAD_REQUEST, DetailOutput, FileNegotiation, ScopedViewSet
from config.http import conditional, stored_file
from inference import selectors
from inference.api import filters
from inference.api import serializers as s
from inference.api.pagination import ScoredImagePagination
from inference.models import Job, JobKind, ModelExport, ModelVersion, Prediction
from inference.services.exports import (
    ExportFileNotFound,
    NotExportable,
    export_delete,
    export_file_open,
    export_start,
)
from inference.services.heatmaps import DEFAULT_OVERLAY_OPACITY, overlay_png, overlay_stored
from inference.services.jobs import JobNotCancellable, job_cancel, job_create, job_kind
from inference.services.reviews import (
    ClaimedByOther,
    review_claim_next,
    review_pending_count,
    review_release,
    review_submit,
)
from inference.services.scoring_jobs import new_images_score, scoring_start
from inference.services.versions import (
    NothingToTrainOn,
    VersionNotReady,
    model_version_promote,
    model_version_threshold_set,
    training_start,
)


class ImageViewSet(annotation_views.ImageViewSet):
    """Images, their files and their labels; the list also filters and orders by a model's scores
    and by reviews. Annotators upload, move between splits and label; managers delete."""

    filterset_class = filters.ScoredImageFilterSet
    pagination_class = ScoredImagePagination

    def images_added(self, collection: Collection, image_ids: list[int]) -> None:
        new_images_score(collection=collection, image_ids=image_ids, by=self.request.user)


@extend_schema_view(
    create=extend_schema(request=s.JobCreateInput, responses={202: s.JobOutput, 400: BAD_REQUEST}),
)
class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Background jobs: train a collection, score it with a model, evaluate a model on the test split.
    POST answers 202 with the queued job; GET it for status, progress and message."""

    output_serializer = s.JobOutput
    filterset_class = filters.JobFilterSet
    action_roles = {"cancel": Role.REVIEWER}

    def get_queryset(self) -> QuerySet:
        return selectors.job_list(user=self.request.user)

    def project_id_of(self, obj: Model) -> int:
        return obj.collection.project_id

    def create(self, request: Request) -> Response:
        data = self.input(s.JobCreateInput)
        kind, collection = data["kind"], data["collection"]
        role_require(
            user=request.user,
            project_id=collection.project_id,
            minimum=job_kind(kind).start_role,
            doing=f"{kind} jobs",
        )
        if kind == JobKind.TRAIN:
            try:
                job = training_start(
                    collection=collection,
                    algorithm=data["algorithm"],
                    parameters=data["parameters"],
                    parent=data.get("parent"),
                    created_by=request.user,
                    score_after=data["score_after"],
                )
            except NothingToTrainOn as error:
                raise ValidationError({"collection": [str(error)]}) from None
        elif kind == JobKind.EXPORT:
            job = _export_start(data["model_version"], request)
        elif kind == JobKind.SCORE:
            job = scoring_start(version=data["model_version"], by=request.user)
        else:
            job = job_create(
                kind=kind, collection=collection, model_version=data["model_version"], created_by=request.user
            )
        return self.output(job, status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: s.JobOutput, 400: BAD_REQUEST})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """Cancel a queued job, or ask a running one to stop (it stops within seconds)."""
        job = self.get_object()
        role_require(
            user=request.user,
            project_id=job.collection.project_id,
            # A kind only the platform starts is a manager's to stop.
            minimum=job_kind(job.kind).start_role or Role.MANAGER,
            doing=f"cancelling {job.kind} jobs",
        )
        try:
            return self.output(job_cancel(job=job))
        except JobNotCancellable as error:
            raise ValidationError({"detail": str(error)}) from None


def _image_response(
    request: Request, prediction: Prediction, parts: tuple, build: Callable[[], HttpResponse]
) -> HttpResponse:
    """A PNG of the prediction with an ETag (304 when the client has it) and cache headers, for
    flipping through; `parts` tell its renderings apart."""
    key = f"{prediction.pk}:{prediction.heatmap.name}:{prediction.score!r}:{parts!r}"
    etag = f"heatmap-{hashlib.sha256(key.encode()).hexdigest()[:20]}"
    response = conditional(request, etag, build, max_age=3600)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _overlay(request: Request, prediction: Prediction) -> HttpResponse:
    query = s.OverlayQuery(data=request.query_params)
    query.is_valid(raise_exception=True)
    opacity, size = query.validated_data["opacity"], query.validated_data.get("size")

    def build() -> HttpResponse:
        if opacity == DEFAULT_OVERLAY_OPACITY and size is None:  # kept in storage, not drawn again
            return FileResponse(stored_file(overlay_stored(prediction=prediction)), content_type="image/png")
        png = overlay_png(
            image=prediction.image, heatmap_file=prediction.heatmap, opacity=opacity, max_side=size
        )
        return HttpResponse(png, content_type="image/png")

    return _image_response(request, prediction, ("overlay", opacity, size), build)


PNG = {(200, "image/png"): OpenApiTypes.BINARY}


def _export_start(version: ModelVersion, request: Request) -> Job:
    try:
        return export_start(version=version, by=request.user)
    except (VersionNotReady, NotExportable) as error:
        raise ValidationError({"detail": str(error)}) from None


class ModelVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Trained models of a collection: parameters, data snapshot, metrics, threshold, cost. Managers
    choose the threshold and promote a version to production."""

    output_serializer = s.ModelVersionOutput
    filterset_class = filters.ModelVersionFilterSet
    action_roles = {"threshold": Role.MANAGER, "promote": Role.MANAGER, "exports": Role.MANAGER}

    def get_queryset(self) -> QuerySet:
        return selectors.model_version_list(user=self.request.user)

    def project_id_of(self, obj: Model) -> int:
        return obj.collection.project_id

    @extend_schema(
        parameters=[s.OverlayQuery], responses={**PNG, 404: OpenApiResponse(description="Not scored")}
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"images/(?P<image_id>[0-9]+)/overlay",
        content_negotiation_class=FileNegotiation,
    )
    def overlay(self, request: Request, pk: str, image_id: str) -> HttpResponse:
        """The image with this model's heatmap blended over it (`opacity` 0–1, `size` longest side)."""
        version = self.get_object()
        prediction = get_object_or_404(
            Prediction.objects.select_related("image"), model_version=version, image_id=int(image_id)
        )
        return _overlay(request, prediction)

    @extend_schema(parameters=[s.VersionScoresQuery], responses=s.VersionScoresOutput)
    @action(detail=True, methods=["get"])
    def scores(self, request: Request, pk: str) -> Response:
        """The scores of the test images the version was evaluated on, with their labels at its
        snapshot: what ROC and PR curves and a confusion matrix at any threshold are computed from. In
        pages of `LOUPE_SCORES_PAGE_SIZE` by image id; follow `next` to the end."""
        version = self.get_object()
        query = s.VersionScoresQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = selectors.model_version_test_scores_page(
            version=version, after=query.validated_data["after"], limit=settings.LOUPE_SCORES_PAGE_SIZE
        )
        follow = None
        if page.last is not None:
            follow = request.build_absolute_uri(f"{request.path}?{urlencode({'after': page.last})}")
        body = {"threshold": version.threshold, "scores": page.rows, "next": follow}
        return Response(s.VersionScoresOutput(body).data)

    @extend_schema(request=s.ThresholdInput, responses={200: s.ModelVersionOutput, 400: BAD_REQUEST})
    @action(detail=True, methods=["post"])
    def threshold(self, request: Request, pk: str) -> Response:
        """Set the image threshold (raw units); every prediction of the version is decided again."""
        version = self.get_object()
        threshold = self.input(s.ThresholdInput, version=version)["threshold"]
        try:
            version = model_version_threshold_set(version=version, threshold=threshold, by=request.user)
        except VersionNotReady as error:
            raise ValidationError({"detail": str(error)}) from None
        return self.output(version)

    @extend_schema(request=None, responses={200: s.ModelVersionOutput, 400: BAD_REQUEST})
    @action(detail=True, methods=["post"])
    def promote(self, request: Request, pk: str) -> Response:
        """Make this ready version the collection's production model."""
        version = self.get_object()
        try:
            version = model_version_promote(version=version, by=request.user)
        except VersionNotReady as error:
            raise ValidationError({"detail": str(error)}) from None
        return self.output(version)

    @extend_schema(methods=["GET"], request=None, responses=s.ExportOutput(many=True))
    @extend_schema(methods=["POST"], request=None, responses={202: s.JobOutput, 400: BAD_REQUEST})
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def exports(self, request: Request, pk: str) -> Response:
        """GET: the version's exports, newest first. POST (managers): export it (ONNX, OpenVINO IR and a
        manifest, checked against the model on its test images); answers 202 with the export job."""
        version = self.get_object()
        if request.method == "POST":
            job = _export_start(version, request)
            return Response(s.JobOutput(job).data, status.HTTP_202_ACCEPTED)
        exports = selectors.export_list(user=request.user, model_version_id=version.pk)
        return Response(s.ExportOutput(exports, many=True).data)


class ExportViewSet(mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ScopedViewSet):
    """A version's model written for runners outside Loupe: its files (ONNX, OpenVINO FP32 and FP16 IR,
    manifest) and the parity figures of each runtime against the model. Managers delete exports."""

    output_serializer = s.ExportOutput

    def get_queryset(self) -> QuerySet:
        return selectors.export_list(user=self.request.user)

    def project_id_of(self, obj: Model) -> int:
        return obj.model_version.collection.project_id

    def perform_destroy(self, instance: ModelExport) -> None:
        export_delete(export=instance)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "name", str, OpenApiParameter.PATH, description="A path the export lists in its files"
            )
        ],
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            404: OpenApiResponse(DetailOutput, description="The export lists no such file"),
        },
    )
    def files(self, request: Request, pk: str, name: str) -> FileResponse:
        """Download one of the export's files (`model.onnx`, `manifest.json`, `openvino/model.xml`, ...)."""
        export = self.get_object()
        try:
            file = export_file_open(export=export, name=name)
        except ExportFileNotFound as error:
            raise NotFound(str(error)) from None
        # The file's own name: the runners expect model.onnx, manifest.json, openvino/model.xml.
        return FileResponse(file, as_attachment=True, filename=posixpath.basename(name))


class PredictionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """A model's score, decision, regions and heatmap for each image."""

    output_serializer = s.PredictionOutput
    filterset_class = filters.PredictionFilterSet

    def get_queryset(self) -> QuerySet:
        return selectors.prediction_list(user=self.request.user)

    def project_id_of(self, obj: Model) -> int:
        return obj.model_version.collection.project_id

    @extend_schema(responses=PNG)
    @action(detail=True, methods=["get"], content_negotiation_class=FileNegotiation)
    def heatmap(self, request: Request, pk: str) -> HttpResponse:
        """The stored 8-bit heatmap: grey level 0 is `heatmap_low`, 255 is `heatmap_high` (raw units)."""
        prediction = self.get_object()
        return _image_response(
            request,
            prediction,
            ("heatmap",),
            lambda: FileResponse(stored_file(prediction.heatmap.name), content_type="image/png"),
        )

    @extend_schema(parameters=[s.OverlayQuery], responses=PNG)
    @action(detail=True, methods=["get"], content_negotiation_class=FileNegotiation)
    def overlay(self, request: Request, pk: str) -> HttpResponse:
        """The image with the heatmap colour-mapped and blended over it (`opacity` 0–1, `size` px)."""
        return _overlay(request, self.get_object())


def _review_item(prediction: Prediction, pending: int) -> dict:
    image = prediction.image
    annotation = image.annotation
    return {
        "prediction": prediction,
        "image": {
            "id": image.pk,
            "name": str(image),
            "width": image.width,
            "height": image.height,
            "split": image.split,
            "display_url": reverse("image-display", args=[image.pk]),
            "page_url": reverse("image-detail", args=[image.pk]),
            "nearest_normal_url": (
                reverse("image-display", args=[prediction.nearest_normal_id])
                if prediction.nearest_normal_id
                else None
            ),
        },
        "annotation": {
            "version": annotation.version,
            "verdict": annotation.verdict,
            "regions": AnnotationOutput(annotation).data["regions"],
        },
        "claimed_until": prediction.claimed_until,
        "pending": pending,
    }


@extend_schema_view(
    create=extend_schema(
        request=s.ReviewCreateInput,
        responses={
            201: s.ReviewOutput,
            400: BAD_REQUEST,
            409: OpenApiResponse(DetailOutput, description="Another reviewer holds this item"),
            412: OpenApiResponse(StaleOutput, description="The labels changed since; nothing was changed"),
        },
    ),
)
class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The review queue and its decisions. `next` hands the caller the next undecided prediction of a
    model (no one else gets it while they hold it); a decision (POST) writes the image's labels."""

    output_serializer = s.ReviewOutput
    filterset_class = filters.ReviewFilterSet

    def get_queryset(self) -> QuerySet:
        return selectors.review_list(user=self.request.user)

    def project_id_of(self, obj: Model) -> int:
        return obj.prediction.model_version.collection.project_id

    def _require_reviewer(self, version: ModelVersion) -> None:
        role_require(
            user=self.request.user,
            project_id=version.collection.project_id,
            minimum=Role.REVIEWER,
            doing="reviewing predictions",
        )

    def create(self, request: Request) -> Response:
        data = self.input(s.ReviewCreateInput)
        prediction = data["prediction"]
        self._require_reviewer(prediction.model_version)
        regions = data.get("regions")
        try:
            review = review_submit(
                prediction=prediction,
                reviewer=request.user,
                decision=data["decision"],
                expected_version=data["version"],
                comment=data["comment"],
                reason=data["reason"],
                regions=None if regions is None else [RegionInput(**region) for region in regions],
            )
        except ClaimedByOther as error:
            return Response({"detail": str(error)}, status.HTTP_409_CONFLICT)
        except StaleAnnotation as error:
            etag = annotation_etag(prediction.image_id, error.current_version)
            return Response(
                {"detail": str(error), "current_version": error.current_version, "etag": etag},
                status.HTTP_412_PRECONDITION_FAILED,
            )
        return self.output(review, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.ReviewNextInput,
        responses={200: s.ReviewItemOutput, 204: OpenApiResponse(description="Nothing left to review")},
    )
    @action(detail=False, methods=["post"])
    def next(self, request: Request) -> Response:
        """Claim the next prediction to review (or get back the one you hold)."""
        data = self.input(s.ReviewNextInput)
        version, scope = data["model_version"], data["scope"]
        self._require_reviewer(version)
        prediction = review_claim_next(version=version, reviewer=request.user, scope=scope)
        if prediction is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        pending = review_pending_count(version=version, scope=scope)["total"]
        return Response(s.ReviewItemOutput(_review_item(prediction, pending)).data)

    @extend_schema(request=s.ReviewReleaseInput, responses={204: None})
    @action(detail=False, methods=["post"])
    def release(self, request: Request) -> Response:
        """Give a claimed item back to the queue (skip it)."""
        prediction = self.input(s.ReviewReleaseInput)["prediction"]
        review_release(prediction=prediction, reviewer=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
