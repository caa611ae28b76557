"""The projects page (with the form that creates one) and a project's page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from annotations import selectors
from annotations.models import Role
from annotations.services.projects import ProjectNameTaken, project_create
from frontend.forms import ProjectCreateForm
from frontend.selectors import project_collections, project_rows
from frontend.views.common import safe_color

ROLE_ORDER = {Role.MANAGER: 0, Role.REVIEWER: 1, Role.ANNOTATOR: 2, Role.VIEWER: 3}


@login_required
@require_http_methods(["GET", "POST"])
def project_list(request: HttpRequest) -> HttpResponse:
    form = ProjectCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = project_create(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                created_by=request.user,
            )
        except ProjectNameTaken as error:  # the one rule: a database constraint, any case
            form.add_error("name", str(error))
        else:
            messages.success(request, f"Project “{project.name}” created; you are its manager.")
            return redirect("project-detail", project_id=project.pk)

    projects = project_rows(user=request.user)
    return render(request, "frontend/project_list.html", {"projects": projects, "form": form})


@login_required
@require_GET
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_object_or_404(selectors.project_list(user=request.user), pk=project_id)
    collections = project_collections(user=request.user, project_id=project.pk)
    members = sorted(
        selectors.membership_list(user=request.user, project_id=project.pk),
        key=lambda m: (ROLE_ORDER.get(m.role, 9), m.user.get_username().lower()),
    )
    context = {
        "project": project,
        "collections": [
            {
                "collection": c,
                "defect_types": [(d, safe_color(d.color)) for d in c.defect_types.all()],
            }
            for c in collections
        ],
        "members": members,
        "my_role": selectors.user_role(user=request.user, project_id=project.pk),
    }
    return render(request, "frontend/project_detail.html", context)
