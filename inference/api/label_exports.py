"""Label exports over the REST API: a collection's images and labels as a zip in a label format.

    GET  /api/v1/collections/{id}/label-exports/                 the collection's label exports (jobs)
    POST /api/v1/collections/{id}/label-exports/ {"format": ...}  → 202 with the export job
    GET  /api/v1/collections/{id}/label-exports/{job}/download/   the zip, once the job succeeded

Any member may export and download (an export reads what members can read); another team's
collection is a 404. Poll the job at /api/v1/jobs/{id}/.
"""

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import selectors as annotation_selectors
from annotations.models import Collection
from annotations.services.label_export import LABEL_FORMATS
from config.api import BAD_REQUEST, DetailOutput, FileNegotiation
from inference import selectors
from inference.api.serializers import JobOutput
from inference.models import JobKind
from inference.services.label_exports import LabelExportNotReady, label_export_open, label_export_start

LISTED = 50


class LabelExportInput(serializers.Serializer):
    format = serializers.ChoiceField(choices=list(LABEL_FORMATS))


def _collection(request: Request, collection_id: int) -> Collection:
    return get_object_or_404(annotation_selectors.collection_list(user=request.user), pk=collection_id)


class LabelExportListView(APIView):
    """A collection's label exports, newest first; POST starts one."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=JobOutput(many=True))
    def get(self, request: Request, collection_id: int) -> Response:
        collection = _collection(request, collection_id)
        jobs = selectors.job_list(user=request.user, collection_id=collection.pk, kind=JobKind.LABEL_EXPORT)
        return Response(JobOutput(jobs[:LISTED], many=True).data)

    @extend_schema(request=LabelExportInput, responses={202: JobOutput, 400: BAD_REQUEST})
    def post(self, request: Request, collection_id: int) -> Response:
        """Export the collection's images and labels (coco, labelme, yolo, cvat or mvtec) into a zip;
        answers 202 with the job, whose result says what was written and what the format left out."""
        collection = _collection(request, collection_id)
        data = LabelExportInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = label_export_start(collection=collection, format=data.validated_data["format"], by=request.user)
        return Response(JobOutput(job).data, status.HTTP_202_ACCEPTED)


class LabelExportDownloadView(APIView):
    permission_classes = [IsAuthenticated]
    content_negotiation_class = FileNegotiation

    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            404: OpenApiResponse(DetailOutput, description="No such export, or it has no file yet"),
        }
    )
    def get(self, request: Request, collection_id: int, job_id: int) -> FileResponse:
        """Download a finished label export's zip."""
        collection = _collection(request, collection_id)
        job = get_object_or_404(
            selectors.job_list(user=request.user, collection_id=collection.pk, kind=JobKind.LABEL_EXPORT),
            pk=job_id,
        )
        try:
            file = label_export_open(job=job)
        except LabelExportNotReady as error:
            raise NotFound(str(error)) from None
        name = job.result["name"]
        return FileResponse(file, as_attachment=True, filename=name, content_type="application/zip")
