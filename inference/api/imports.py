"""Imports from the browser over the REST API: stage an upload in batches, then start its job.

    POST /api/v1/collections/{id}/imports/staged/   multipart batch → 201 {"staging": key, ...}
    POST /api/v1/collections/{id}/imports/          {"staging": key} (or a batch itself) → 202 job

Annotators and above; another team's collection is a 404. Poll the job at /api/v1/jobs/{id}/: when
it succeeds its `result` says what was added, already there, and refused (each file with why).
"""

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import selectors as annotation_selectors
from annotations.api.permissions import role_require
from annotations.models import Collection, Role
from config.api import BAD_REQUEST
from config.parsers import BoundedJSONParser
from inference.api.serializers import JobOutput
from inference.services.dataset_imports import ImportRefused, StagedUpload, import_stage, import_start
from inference.services.importing import DATASET_FORMATS


class ImportInput(serializers.Serializer):
    staging = serializers.RegexField(
        r"^[0-9a-f]{32}$", required=False, help_text="the key the first staged batch answered with"
    )
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True), required=False, default=list
    )
    paths = serializers.ListField(
        child=serializers.CharField(max_length=1000, trim_whitespace=False),
        required=False,
        default=list,
        help_text="each file's path relative to the dropped folder (train/good/000.png), in the "
        "order of `files`; left out, the files' own names",
    )
    archive = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, help_text="zip files"
    )
    format = serializers.ChoiceField(
        choices=DATASET_FORMATS,
        required=False,
        allow_null=True,
        default=None,
        help_text="what the upload holds (at the start); left out: the MVTec AD layout, else a plain folder",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["paths"] and len(data["paths"]) != len(data["files"]):
            raise serializers.ValidationError(
                {"paths": [f"{len(data['paths'])} paths for {len(data['files'])} files: send one per file"]}
            )
        return data


class StagedOutput(serializers.Serializer):
    staging = serializers.CharField(source="key", help_text="send it with the next batches and the start")
    files = serializers.IntegerField()
    archives = serializers.IntegerField()


class _ImportView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]

    def collection(self, request: Request, collection_id: int) -> Collection:
        collection = get_object_or_404(
            annotation_selectors.collection_list(user=request.user), pk=collection_id
        )
        role_require(
            user=request.user,
            project_id=collection.project_id,
            minimum=Role.ANNOTATOR,
            doing="importing images",
        )
        return collection

    def stage(self, request: Request, collection: Collection, data: dict[str, Any]) -> StagedUpload:
        files = data["files"]
        names = data["paths"] or [upload.name for upload in files]
        try:
            return import_stage(
                collection=collection,
                user=request.user,
                key=data.get("staging"),
                files=list(zip(names, files, strict=True)),
                archives=data["archive"],
            )
        except ImportRefused as error:
            raise ValidationError({"detail": str(error)}) from None


class ImportStageView(_ImportView):
    @extend_schema(
        request={"multipart/form-data": ImportInput}, responses={201: StagedOutput, 400: BAD_REQUEST}
    )
    def post(self, request: Request, collection_id: int) -> Response:
        """Stage one batch of an upload (files with their relative paths, or zips); nothing is imported
        until the upload is started. The first batch is answered with the upload's key."""
        collection = self.collection(request, collection_id)
        data = ImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        if not data.validated_data["files"] and not data.validated_data["archive"]:
            raise ValidationError({"detail": "send files (with their paths) or a zip to stage"})
        staged = self.stage(request, collection, data.validated_data)
        return Response(StagedOutput(staged).data, status.HTTP_201_CREATED)


class ImportStartView(_ImportView):
    @extend_schema(
        request={"multipart/form-data": ImportInput, "application/json": ImportInput},
        responses={202: JobOutput, 400: BAD_REQUEST},
    )
    def post(self, request: Request, collection_id: int) -> Response:
        """Start the import job of a staged upload (`staging`), or of files and zips sent with this
        request; answers 202 with the job."""
        collection = self.collection(request, collection_id)
        data = ImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        key = data.validated_data.get("staging")
        if data.validated_data["files"] or data.validated_data["archive"]:
            key = self.stage(request, collection, data.validated_data).key
        if key is None:
            raise ValidationError({"detail": "send files or a zip, or the staging key of a staged upload"})
        try:
            job = import_start(
                collection=collection, user=request.user, key=key, format=data.validated_data["format"]
            )
        except ImportRefused as error:
            raise ValidationError({"detail": str(error)}) from None
        return Response(JobOutput(job).data, status.HTTP_202_ACCEPTED)
