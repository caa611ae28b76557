"""The line's routes: inspection (stations and managers), station keys, the line policy and drift."""

from typing import Any

from django.conf import settings
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.decorators import (
    action,
    api_view,
    authentication_classes,
    permission_classes,
)
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.permissions import role_require
from annotations.models import Collection, Role
from annotations.selectors import collection_list
from config.api import BAD_REQUEST, DetailOutput, ScopedViewSet
from inference.selectors import production_version
from inference.services.scoring import ModelFilesMissing
from line import selectors
from line.api import filters
from line.api import serializers as s
from line.fence import StationAuthentication
from line.models import Station
from line.services.inspection import ImagesRejected, inspect_images, line_policy
from line.services.runtime import NoPromotedModel, loaded_model_count
from line.services.stations import station_create, station_revoke


class RawImageParser(BaseParser):
    """One image sent as the request body, with its own content type (``image/png``, ``image/jpeg``…)."""

    media_type = "image/*"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> bytes:
        limit = settings.LOUPE_MAX_UPLOAD_BYTES
        content = stream.read(limit + 1) if stream is not None else b""
        if len(content) > limit:
            raise ParseError(f"the image is larger than {limit} bytes")
        return content


def _member_collection(request: Request, collection_id: int) -> Collection:
    return get_object_or_404(collection_list(user=request.user), pk=collection_id)


class InspectView(APIView):
    """Inspect images from the line with the collection's promoted version."""

    authentication_classes = [StationAuthentication, TokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, RawImageParser]

    @extend_schema(
        operation_id="collections_inspect",
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"images": {"type": "array", "items": {"type": "string", "format": "binary"}}},
            },
            "image/*": {"type": "string", "format": "binary"},
        },
        parameters=[
            OpenApiParameter("heatmap", OpenApiTypes.BOOL, description="Add each image's anomaly map"),
            OpenApiParameter("name", OpenApiTypes.STR, description="The image's name, for a raw-bytes body"),
        ],
        responses={
            200: s.InspectionOutput,
            400: BAD_REQUEST,
            409: OpenApiResponse(
                DetailOutput, description="The collection has no promoted model, or its files are missing"
            ),
        },
    )
    def post(self, request: Request, collection_id: int) -> Response:
        """Score one image or a batch (multipart field `images`, repeatable; or the raw bytes of one
        image with its content type) and answer each one's score, normalised score, decision and
        flagged regions, in the order sent. Station keys of the collection and its managers may call
        it. Every inspection is recorded; the collection's line policy keeps some images for review.
        One file that is not an image Loupe takes and nothing is inspected or stored."""
        station = request.auth if isinstance(request.auth, Station) else None
        if station is not None:
            collection = station.collection
        else:
            collection = _member_collection(request, collection_id)
            role_require(
                user=request.user, project_id=collection.project_id, minimum=Role.MANAGER, doing="inspecting"
            )
        if isinstance(request.data, bytes):
            uploads = [(request.query_params.get("name") or "image", request.data)]
        else:
            uploads = [(upload.name, upload.read()) for upload in request.FILES.getlist("images")]
        heatmaps = request.query_params.get("heatmap", "").lower() in ("1", "true", "yes")
        try:
            outcome = inspect_images(
                collection=collection,
                uploads=uploads,
                station=station,
                user=None if station else request.user,
                heatmaps=heatmaps,
            )
        except ImagesRejected as error:
            files = [{"name": name, "error": reason} for name, reason in error.rejected]
            return Response({"detail": str(error), "files": files}, status.HTTP_400_BAD_REQUEST)
        except (NoPromotedModel, ModelFilesMissing) as error:
            return Response({"detail": str(error)}, status.HTTP_409_CONFLICT)
        except ValueError as error:
            return Response({"detail": str(error)}, status.HTTP_400_BAD_REQUEST)
        answer = Response({"model_version": outcome.version.pk, "results": outcome.results})
        answer["Server-Timing"] = (
            f"wait;dur={outcome.wait_seconds * 1000:.2f}, model;dur={outcome.model_seconds * 1000:.2f}"
        )
        return answer


@extend_schema(exclude=True)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def health(request: Request) -> Response:
    """Whether the inspection process is up, and how many models it holds: a count, as anyone may ask,
    and which collections a line inspects is no one's business outside them."""
    return Response({"status": "ok", "models_loaded": loaded_model_count()})


class StationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Line stations: keys that can inspect one collection and do nothing else. Managers create and
    revoke them; a key is shown once, when it is made."""

    output_serializer = s.StationOutput
    filterset_class = filters.StationFilterSet
    action_roles = {"revoke": Role.MANAGER}

    def get_queryset(self) -> QuerySet:
        return selectors.station_list(user=self.request.user)

    def project_id_of(self, obj: Model) -> int:
        return obj.collection.project_id

    @extend_schema(request=s.StationInput, responses={201: s.StationCreatedOutput, 400: BAD_REQUEST})
    def create(self, request: Request) -> Response:
        data = self.input(s.StationInput)
        collection = collection_list(user=request.user).filter(pk=data["collection"]).first()
        if collection is None:
            raise ValidationError({"collection": ["does not exist"]})
        role_require(
            user=request.user,
            project_id=collection.project_id,
            minimum=Role.MANAGER,
            doing="creating stations",
        )
        station, key = station_create(collection=collection, name=data["name"], created_by=request.user)
        station.key = key  # type: ignore[attr-defined]  # shown in this answer only
        return Response(s.StationCreatedOutput(station).data, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.StationOutput})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str) -> Response:
        """Revoke the station's key for good: its next request gets 401."""
        return self.output(station_revoke(station=self.get_object()))


class InspectionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """What the line inspected: station, time, score, decision, version, and the kept image, newest
    first (members)."""

    output_serializer = s.InspectionRecordOutput
    filterset_class = filters.InspectionFilterSet

    def get_queryset(self) -> QuerySet:
        return selectors.inspection_list(user=self.request.user)

    def project_id_of(self, obj: Model) -> int:
        return obj.collection.project_id


class LinePolicyView(APIView):
    """Which line images the collection keeps for review, and the bands of its drift alert."""

    @extend_schema(responses={200: s.LinePolicyOutput})
    def get(self, request: Request, collection_id: int) -> Response:
        collection = _member_collection(request, collection_id)
        return Response(s.LinePolicyOutput(line_policy(collection_id=collection.pk)).data)

    @extend_schema(request=s.LinePolicyInput, responses={200: s.LinePolicyOutput, 400: BAD_REQUEST})
    def patch(self, request: Request, collection_id: int) -> Response:
        """Change the policy (managers)."""
        collection = _member_collection(request, collection_id)
        role_require(
            user=request.user,
            project_id=collection.project_id,
            minimum=Role.MANAGER,
            doing="changing the line policy",
        )
        policy = line_policy(collection_id=collection.pk)
        data = s.LinePolicyInput(policy, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return Response(s.LinePolicyOutput(data.save()).data)


class DriftView(APIView):
    """The line's recent scores against the promoted version's validation scores."""

    @extend_schema(responses={200: s.DriftOutput})
    def get(self, request: Request, collection_id: int) -> Response:
        """The drift state (`ok`, `alert` or `unknown`, with the reason), the KS statistic of the recent
        window against validation, the reject rate and its ceiling, and the same over time (`series`)."""
        collection = _member_collection(request, collection_id)
        report = selectors.drift_report(
            version=production_version(collection_id=collection.pk),
            policy=line_policy(collection_id=collection.pk),
        )
        return Response(s.DriftOutput(report).data)
