"""Disagreements over the REST API: reviews that contradicted a human label, and their resolution.

GET  /api/v1/disagreements/?collection=&image=&open=true   members
POST /api/v1/disagreements/{id}/resolve/ {"resolution": "kept_label" | "took_review"}   reviewers
"""

from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.api.permissions import role_require
from annotations.api.serializers import StaleOutput, annotation_etag
from annotations.models import Role
from annotations.services.annotations import StaleAnnotation
from config.api import BAD_REQUEST, DetailOutput, ScopedViewSet
from inference import selectors
from inference.api.filters import DisagreementFilterSet
from inference.models import Disagreement, Resolution
from inference.services.disagreements import AlreadyResolved, disagreement_resolve


class DisagreementOutput(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="review.reviewer.username", read_only=True, allow_null=True)
    decision = serializers.CharField(source="review.decision", read_only=True)
    reason = serializers.CharField(source="review.reason", read_only=True)
    comment = serializers.CharField(source="review.comment", read_only=True)
    resolved_by = serializers.CharField(source="resolved_by.username", read_only=True, allow_null=True)

    class Meta:
        model = Disagreement
        fields = [
            "id",
            "image",
            "review",
            "reviewer",
            "decision",
            "reason",
            "comment",
            "label_verdict",
            "label_version",
            "review_verdict",
            "resolution",
            "resolved_by",
            "resolved_at",
            "created_at",
        ]
        read_only_fields = fields


class ResolveInput(serializers.Serializer):
    resolution = serializers.ChoiceField(choices=Resolution.choices)


class DisagreementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Reviews that contradicted a human label. The label stands until a reviewer or manager resolves
    the disagreement: keep the label, or take the review's decision as the new label."""

    output_serializer = DisagreementOutput
    filterset_class = DisagreementFilterSet
    action_roles = {"resolve": Role.REVIEWER}

    def get_queryset(self) -> QuerySet:
        return selectors.disagreement_list(user=self.request.user)

    def project_id_of(self, obj: Model) -> int:
        return obj.image.collection.project_id

    @extend_schema(
        request=ResolveInput,
        responses={
            200: DisagreementOutput,
            400: BAD_REQUEST,
            409: OpenApiResponse(DetailOutput, description="Someone resolved it first"),
            412: OpenApiResponse(StaleOutput, description="The label changed since the review"),
        },
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str) -> Response:
        """Keep the label, or make the review's decision the label (if the label is still the one the
        review contradicted)."""
        disagreement = self.get_object()
        role_require(
            user=request.user,
            project_id=disagreement.image.collection.project_id,
            minimum=Role.REVIEWER,
            doing="resolving disagreements",
        )
        resolution = self.input(ResolveInput)["resolution"]
        try:
            return self.output(
                disagreement_resolve(disagreement=disagreement, by=request.user, resolution=resolution)
            )
        except AlreadyResolved as error:
            return Response({"detail": str(error)}, status.HTTP_409_CONFLICT)
        except StaleAnnotation as error:
            etag = annotation_etag(disagreement.image_id, error.current_version)
            return Response(
                {
                    "detail": f"{error}; this disagreement stays open: review the image again",
                    "current_version": error.current_version,
                    "etag": etag,
                },
                status.HTTP_412_PRECONDITION_FAILED,
            )
