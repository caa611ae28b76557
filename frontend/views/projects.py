"""The projects page (with the form that creates one) and a project's page: its collections (managers
create them), its members (managers add them, change their roles and remove them) and its line
stations."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotations import selectors
from annotations.models import Membership, Project, Role
from annotations.services.projects import (
    AlreadyMember,
    CollectionNameTaken,
    LastManager,
    NoSuchAccount,
    ProjectNameTaken,
    collection_create,
    membership_create,
    membership_delete,
    membership_update,
    project_create,
)
from frontend.forms import (
    CollectionForm,
    MemberAddForm,
    MemberRoleForm,
    ProjectCreateForm,
    StationCreateForm,
)
from frontend.selectors import project_collections, project_rows
from frontend.views.common import safe_color
from line.selectors import station_list
from line.services.stations import station_create, station_revoke

NEW_STATION_KEY = "new_station"
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
        except ProjectNameTaken as error:  # the one rule: free among the user's projects, any case
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
    return _project_page(request, project)


def _project_page(
    request: HttpRequest,
    project: Project,
    *,
    collection_form: CollectionForm | None = None,
    member_form: MemberAddForm | None = None,
) -> HttpResponse:
    """The project's page; a form that did not validate comes back with its errors (200)."""
    show_archived = request.GET.get("archived") == "1"
    collections = project_collections(
        user=request.user, project_id=project.pk, archived=None if show_archived else False
    )
    archived_count = selectors.collection_list(
        user=request.user, project_id=project.pk, archived=True
    ).count()
    members = sorted(
        selectors.membership_list(user=request.user, project_id=project.pk),
        key=lambda m: (ROLE_ORDER.get(m.role, 9), m.user.get_username().lower()),
    )
    can_manage = selectors.user_has_role(user=request.user, project_id=project.pk, minimum=Role.MANAGER)
    open_collections = selectors.collection_list(user=request.user, project_id=project.pk, archived=False)
    context = {
        "project": project,
        "collections": [
            {
                "collection": c,
                "defect_types": [(d, safe_color(d.color)) for d in c.defect_types.all()],
            }
            for c in collections
        ],
        "show_archived": show_archived,
        "archived_count": archived_count,
        "members": [
            {"membership": m, "role_form": MemberRoleForm(initial={"role": m.role}, prefix=f"member-{m.pk}")}
            for m in members
        ],
        "my_role": selectors.user_role(user=request.user, project_id=project.pk),
        "can_manage": can_manage,
        "collection_form": (collection_form or CollectionForm()) if can_manage else None,
        "member_form": (member_form or MemberAddForm()) if can_manage else None,
        "stations": station_list(user=request.user, project_id=project.pk),
        "new_station": _new_station_once(request, project.pk),
        "station_form": StationCreateForm(collections=open_collections)
        if can_manage and open_collections.exists()
        else None,
    }
    return render(request, "frontend/project_detail.html", context)


def _managed_project(request: HttpRequest, project_id: int, doing: str) -> Project:
    """The project, for a manager's change: another team's project is a 404, a member below manager
    gets a 403 that says why."""
    project = get_object_or_404(selectors.project_list(user=request.user), pk=project_id)
    if not selectors.user_has_role(user=request.user, project_id=project.pk, minimum=Role.MANAGER):
        raise PermissionDenied(f"Only managers can {doing}.")
    return project


@login_required
@require_POST
def project_collection_create(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _managed_project(request, project_id, "create collections")
    form = CollectionForm(request.POST)
    if form.is_valid():
        try:
            collection = collection_create(project=project, **form.cleaned_data)
        except CollectionNameTaken as error:
            form.add_error("name", str(error))
        else:
            messages.success(
                request, f"Collection “{collection.name}” created: add its defect types, then its images."
            )
            return redirect("collection-settings", collection_id=collection.pk)
    return _project_page(request, project, collection_form=form)


@login_required
@require_POST
def project_member_add(request: HttpRequest, project_id: int) -> HttpResponse:
    # A manager's first: only they learn from the answer whether an account exists.
    project = _managed_project(request, project_id, "add members")
    form = MemberAddForm(request.POST)
    if form.is_valid():
        role = Role(form.cleaned_data["role"])
        try:
            membership = membership_create(project=project, identifier=form.cleaned_data["user"], role=role)
        except (NoSuchAccount, AlreadyMember) as error:
            form.add_error("user", str(error))
        else:
            messages.success(request, f"{membership.user.get_username()} added as {role.label}.")
            return redirect(reverse("project-detail", args=[project.pk]) + "#members")
    return _project_page(request, project, member_form=form)


def _membership(request: HttpRequest, project_id: int, membership_id: int, doing: str) -> Membership:
    project = _managed_project(request, project_id, doing)
    return get_object_or_404(
        selectors.membership_list(user=request.user, project_id=project.pk), pk=membership_id
    )


@login_required
@require_POST
def project_member_role(request: HttpRequest, project_id: int, membership_id: int) -> HttpResponse:
    membership = _membership(request, project_id, membership_id, "change roles")
    form = MemberRoleForm(request.POST, prefix=f"member-{membership.pk}")
    name = membership.user.get_username()
    if not form.is_valid():
        messages.error(request, f"Role of {name} not changed: choose one of the roles listed.")
    else:
        try:
            membership = membership_update(membership=membership, role=Role(form.cleaned_data["role"]))
        except LastManager as error:
            messages.error(request, f"Role of {name} not changed: {error}.")
        else:
            messages.success(request, f"{name} is now {Role(membership.role).label}.")
    return _back_to_project(request, project_id)


@login_required
@require_POST
def project_member_remove(request: HttpRequest, project_id: int, membership_id: int) -> HttpResponse:
    membership = _membership(request, project_id, membership_id, "remove members")
    name = membership.user.get_username()
    try:
        membership_delete(membership=membership)
    except LastManager as error:
        messages.error(request, f"{name} was not removed: {error}.")
        return _back_to_project(request, project_id)
    messages.success(request, f"{name} removed from the project.")
    if membership.user_id == request.user.pk:  # they left: the project no longer exists for them
        return redirect("project-list")
    return _back_to_project(request, project_id)


def _back_to_project(request: HttpRequest, project_id: int) -> HttpResponse:
    return redirect(reverse("project-detail", args=[project_id]) + "#members")


def _new_station_once(request: HttpRequest, project_id: int) -> dict | None:
    """The key of the station just made in this project: shown on this one page load, then gone."""
    made = request.session.get(NEW_STATION_KEY)
    if made is None or made.get("project") != project_id:
        return None
    return request.session.pop(NEW_STATION_KEY)


@login_required
@require_POST
def project_station_create(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_object_or_404(selectors.project_list(user=request.user), pk=project_id)
    if not selectors.user_has_role(user=request.user, project_id=project.pk, minimum=Role.MANAGER):
        raise PermissionDenied("Only managers can create stations.")
    form = StationCreateForm(
        request.POST,
        collections=selectors.collection_list(user=request.user, project_id=project.pk, archived=False),
    )
    if not form.is_valid():
        messages.error(
            request, "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())
        )
        return redirect("project-detail", project_id=project.pk)
    station, key = station_create(
        collection=form.cleaned_data["collection"], name=form.cleaned_data["name"], created_by=request.user
    )
    request.session[NEW_STATION_KEY] = {
        "project": project.pk,
        "id": station.pk,
        "name": station.name,
        "key": key,
    }
    return redirect(reverse("project-detail", args=[project.pk]) + "#stations")


@login_required
@require_POST
def project_station_revoke(request: HttpRequest, project_id: int, station_id: int) -> HttpResponse:
    station = get_object_or_404(station_list(user=request.user, project_id=project_id), pk=station_id)
    if not selectors.user_has_role(user=request.user, project_id=project_id, minimum=Role.MANAGER):
        raise PermissionDenied("Only managers can revoke stations.")
    station_revoke(station=station)
    messages.success(request, f"Station “{station.name}” revoked: its key is refused from now on.")
    return redirect(reverse("project-detail", args=[project_id]) + "#stations")
