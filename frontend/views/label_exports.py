"""The collection page's label export: a small collection's zip is written and sent at once; a large
one (over `DIRECT_EXPORT_LIMIT` images) becomes a label export job, whose zip the page then lists."""

import tempfile

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from annotations.models import Collection, Role
from annotations.services.label_export import LABEL_FORMATS, export_zip_name, labels_export_zip
from frontend.views.common import collection_role_required
from inference.services.label_exports import DIRECT_EXPORT_LIMIT, label_export_start


@require_POST
@collection_role_required(Role.VIEWER, "Only members can export labels.", back_to="collection-detail")
def collection_label_export(request: HttpRequest, collection: Collection) -> HttpResponse:
    format = request.POST.get("format", "")
    if format not in LABEL_FORMATS:
        messages.error(request, f"Choose a label format: {', '.join(LABEL_FORMATS)}.")
        return redirect("collection-detail", collection_id=collection.pk)
    images = collection.images.count()
    if images <= DIRECT_EXPORT_LIMIT:
        # FileResponse closes (and so deletes) the file once it is sent.
        archive = tempfile.TemporaryFile()  # noqa: SIM115
        labels_export_zip(collection=collection, format=format, file=archive)
        archive.seek(0)
        name = export_zip_name(collection, format)
        return FileResponse(archive, as_attachment=True, filename=name, content_type="application/zip")
    job = label_export_start(collection=collection, format=format, by=request.user)
    messages.success(
        request,
        f"Exporting {images} images as {format} in the background (job {job.pk}); "
        "its download appears under Label exports when it is done.",
    )
    return redirect("collection-detail", collection_id=collection.pk)
