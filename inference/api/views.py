"""Jobs, model versions and predictions over the REST API, in the style of `annotations.api.views`.

Roles: starting or cancelling training needs a manager; scoring and evaluation a reviewer; reading
needs membership only. Long work answers 202 with the job; poll `/api/v1/jobs/{id}/`.
"""

import hashlib

from django.db.models import Model, QuerySet
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.api.permissions import role_require
from annotations.api.views import BAD_REQUEST, FileNegotiation, ScopedViewSet
from annotations.models import Role
from inference import selectors
from inference.api import serializers as s
from inference.models import JobKind, Prediction
from inference.services.heatmaps import overlay_png
from inference.services.jobs import JobNotCancellable, job_cancel, job_create
from inference.services.versions import NothingToTrainOn, training_start

START_ROLES = {JobKind.TRAIN: Role.MANAGER, JobKind.SCORE: Role.REVIEWER, JobKind.EVALUATE: Role.REVIEWER}
CACHE = "private, max-age=3600"


@extend_schema_view(
    list=extend_schema(parameters=[s.JobFilter]),
    create=extend_schema(request=s.JobCreateInput, responses={202: s.JobOutput, 400: BAD_REQUEST}),
)
class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Background jobs: train a collection, score it with a model, evaluate a model on the test split.
    POST answers 202 with the queued job; GET it for status, progress and message."""

    output_serializer = s.JobOutput
    filter_serializer = s.JobFilter
    action_roles = {"cancel": Role.REVIEWER}

    def get_queryset(self) -> QuerySet:
        filters = self.filters()
        return selectors.job_list(
            user=self.request.user,
            collection_id=filters.get("collection"),
            status=filters.get("status"),
            kind=filters.get("kind"),
            model_version_id=filters.get("model_version"),
        )

    def project_id_of(self, obj: Model) -> int:
        return obj.collection.project_id

    def create(self, request: Request) -> Response:
        data = self.input(s.JobCreateInput)
        kind, collection = data["kind"], data["collection"]
        role_require(
            user=request.user,
            project_id=collection.project_id,
            minimum=START_ROLES[kind],
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
            minimum=START_ROLES[job.kind],
            doing=f"cancelling {job.kind} jobs",
        )
        try:
            return self.output(job_cancel(job=job))
        except JobNotCancellable as error:
            raise ValidationError({"detail": str(error)}) from None


def _image_response(request: Request, etag: str, build) -> HttpResponse:
    """A PNG with an ETag (304 when the client has it) and cache headers, for flipping through."""
    response = HttpResponse(status=304) if etag in request.headers.get("If-None-Match", "") else build()
    response["ETag"] = etag
    response["Cache-Control"] = CACHE
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _etag(prediction: Prediction, *parts: object) -> str:
    key = f"{prediction.pk}:{prediction.heatmap.name}:{prediction.score!r}:{parts!r}"
    return f'"heatmap-{hashlib.sha256(key.encode()).hexdigest()[:20]}"'


def _overlay(request: Request, prediction: Prediction) -> HttpResponse:
    query = s.OverlayQuery(data=request.query_params)
    query.is_valid(raise_exception=True)
    opacity, size = query.validated_data["opacity"], query.validated_data.get("size")

    def build() -> HttpResponse:
        png = overlay_png(
            image=prediction.image, heatmap_file=prediction.heatmap, opacity=opacity, max_side=size
        )
        return HttpResponse(png, content_type="image/png")

    return _image_response(request, _etag(prediction, "overlay", opacity, size), build)


PNG = {(200, "image/png"): OpenApiTypes.BINARY}


@extend_schema_view(list=extend_schema(parameters=[s.ModelVersionFilter]))
class ModelVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Trained models of a collection: parameters, data snapshot, metrics, threshold, cost."""

    output_serializer = s.ModelVersionOutput
    filter_serializer = s.ModelVersionFilter

    def get_queryset(self) -> QuerySet:
        filters = self.filters()
        return selectors.model_version_list(
            user=self.request.user, collection_id=filters.get("collection"), status=filters.get("status")
        )

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


@extend_schema_view(list=extend_schema(parameters=[s.PredictionFilter]))
class PredictionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """A model's score, decision, regions and heatmap for each image."""

    output_serializer = s.PredictionOutput
    filter_serializer = s.PredictionFilter

    def get_queryset(self) -> QuerySet:
        filters = self.filters()
        return selectors.prediction_list(
            user=self.request.user,
            model_version_id=filters.get("model_version"),
            image_id=filters.get("image"),
            is_defective=filters.get("is_defective"),
        )

    def project_id_of(self, obj: Model) -> int:
        return obj.model_version.collection.project_id

    @extend_schema(responses=PNG)
    @action(detail=True, methods=["get"], content_negotiation_class=FileNegotiation)
    def heatmap(self, request: Request, pk: str) -> HttpResponse:
        """The stored 8-bit heatmap: grey level 0 is `heatmap_low`, 255 is `heatmap_high` (raw units)."""
        prediction = self.get_object()
        return _image_response(
            request,
            _etag(prediction, "heatmap"),
            lambda: FileResponse(prediction.heatmap.open("rb"), content_type="image/png"),
        )

    @extend_schema(parameters=[s.OverlayQuery], responses=PNG)
    @action(detail=True, methods=["get"], content_negotiation_class=FileNegotiation)
    def overlay(self, request: Request, pk: str) -> HttpResponse:
        """The image with the heatmap colour-mapped and blended over it (`opacity` 0–1, `size` px)."""
        return _overlay(request, self.get_object())
