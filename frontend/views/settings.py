"""A collection's settings page: its name and description, archiving and restoring it, its defect
types (name, colour, hotkey) and what it does by itself. Members read it; managers change it. Every
change goes through the same services as the API, which refuse changes to an archived collection."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from annotations import selectors
from annotations.models import Collection, DefectType, Role
from annotations.services.projects import (
    DEFECT_COLORS,
    RESERVED_HOTKEYS,
    CollectionNameTaken,
    DefectTypeInUse,
    DefectTypeNameTaken,
    HotkeyRefused,
    collection_archive,
    collection_restore,
    collection_update,
    defect_type_create,
    defect_type_delete,
    defect_type_update,
)
from frontend.forms import CollectionAutomationForm, CollectionForm, DefectTypeForm
from frontend.views.common import collection_role_required, safe_color
from inference.services.reviews import learning_settings, learning_settings_update

MANAGERS_ONLY = "Only managers can change a collection's settings."


def _type_prefix(defect_type_id: int) -> str:
    return f"type-{defect_type_id}"


@login_required
@require_GET
def collection_settings(request: HttpRequest, collection_id: int) -> HttpResponse:
    collection = get_object_or_404(selectors.collection_list(user=request.user), pk=collection_id)
    return _settings_page(request, collection)


def _settings_page(
    request: HttpRequest,
    collection: Collection,
    *,
    collection_form: CollectionForm | None = None,
    new_type_form: DefectTypeForm | None = None,
    type_form: DefectTypeForm | None = None,
    type_form_of: int | None = None,
) -> HttpResponse:
    """The page; a form that did not validate comes back with its errors (200)."""
    can_manage = selectors.user_has_role(
        user=request.user, project_id=collection.project_id, minimum=Role.MANAGER
    )
    editable = can_manage and collection.archived_at is None
    defect_types = (
        selectors.defect_type_list(user=request.user, collection_id=collection.pk)
        .annotate(region_count=Count("regions"))
        .order_by("name")
    )
    rows = [
        {
            "defect_type": d,
            "color": safe_color(d.color),
            "form": type_form
            if type_form is not None and type_form_of == d.pk
            else DefectTypeForm(
                initial={"name": d.name, "color": safe_color(d.color), "hotkey": d.hotkey},
                prefix=_type_prefix(d.pk),
            ),
        }
        for d in defect_types
    ]
    learning = learning_settings(collection_id=collection.pk)
    context = {
        "collection": collection,
        "project": collection.project,
        "can_manage": can_manage,
        "editable": editable,
        "defect_types": rows,
        "collection_form": collection_form
        or CollectionForm(initial={"name": collection.name, "description": collection.description}),
        "new_type_form": new_type_form
        or DefectTypeForm(initial={"color": DEFECT_COLORS[len(rows) % len(DEFECT_COLORS)]}, prefix="new"),
        "automation_form": CollectionAutomationForm(
            initial={
                "score_new_uploads": learning.score_new_uploads,
                "promote_better_child": learning.promote_better_child,
            }
        ),
        "reserved_keys": sorted("Space" if key == " " else key for key in RESERVED_HOTKEYS),
    }
    return render(request, "frontend/collection_settings.html", context)


def _back(collection: Collection, anchor: str = "") -> HttpResponse:
    return redirect(reverse("collection-settings", args=[collection.pk]) + anchor)


@require_POST
@collection_role_required(Role.MANAGER, MANAGERS_ONLY, back_to="collection-settings")
def collection_rename(request: HttpRequest, collection: Collection) -> HttpResponse:
    form = CollectionForm(request.POST)
    if form.is_valid():
        try:
            collection_update(collection=collection, **form.cleaned_data)
        except CollectionNameTaken as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f"Collection renamed “{collection.name}”.")
            return _back(collection)
    collection.refresh_from_db()
    return _settings_page(request, collection, collection_form=form)


@require_POST
@collection_role_required(Role.MANAGER, MANAGERS_ONLY, back_to="collection-settings")
def collection_archive_view(request: HttpRequest, collection: Collection) -> HttpResponse:
    collection_archive(collection=collection)
    messages.success(
        request,
        f"Collection “{collection.name}” archived: it is read-only and out of the lists until a manager "
        "restores it.",
    )
    return redirect("project-detail", project_id=collection.project_id)


@require_POST
@collection_role_required(Role.MANAGER, MANAGERS_ONLY, back_to="collection-settings")
def collection_restore_view(request: HttpRequest, collection: Collection) -> HttpResponse:
    collection_restore(collection=collection)
    messages.success(request, f"Collection “{collection.name}” restored: it takes changes again.")
    return redirect("collection-detail", collection_id=collection.pk)


@require_POST
@collection_role_required(Role.MANAGER, MANAGERS_ONLY, back_to="collection-settings")
def defect_type_add(request: HttpRequest, collection: Collection) -> HttpResponse:
    form = DefectTypeForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            defect_type = defect_type_create(
                collection=collection,
                name=form.cleaned_data["name"],
                color=form.cleaned_data["color"].lower(),
                # Left empty: the collection's next free digit.
                hotkey=form.cleaned_data["hotkey"] or None,
            )
        except HotkeyRefused as error:
            form.add_error("hotkey", str(error))
        except DefectTypeNameTaken as error:
            form.add_error("name", str(error))
        else:
            key = f" (key {defect_type.hotkey})" if defect_type.hotkey else ""
            messages.success(request, f"Defect type “{defect_type.name}” added{key}.")
            return _back(collection, "#defect-types")
    return _settings_page(request, collection, new_type_form=form)


def _collection_defect_type(request: HttpRequest, collection: Collection, defect_type_id: int) -> DefectType:
    return get_object_or_404(
        selectors.defect_type_list(user=request.user, collection_id=collection.pk), pk=defect_type_id
    )


@require_POST
@collection_role_required(Role.MANAGER, MANAGERS_ONLY, back_to="collection-settings")
def defect_type_change(request: HttpRequest, collection: Collection, defect_type_id: int) -> HttpResponse:
    defect_type = _collection_defect_type(request, collection, defect_type_id)
    form = DefectTypeForm(request.POST, prefix=_type_prefix(defect_type.pk))
    if form.is_valid():
        try:
            defect_type_update(
                defect_type=defect_type,
                name=form.cleaned_data["name"],
                color=form.cleaned_data["color"].lower(),
                hotkey=form.cleaned_data["hotkey"],
            )
        except HotkeyRefused as error:
            form.add_error("hotkey", str(error))
        except DefectTypeNameTaken as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f"Defect type “{defect_type.name}” saved.")
            return _back(collection, "#defect-types")
    return _settings_page(request, collection, type_form=form, type_form_of=defect_type.pk)


@require_POST
@collection_role_required(Role.MANAGER, MANAGERS_ONLY, back_to="collection-settings")
def defect_type_remove(request: HttpRequest, collection: Collection, defect_type_id: int) -> HttpResponse:
    defect_type = _collection_defect_type(request, collection, defect_type_id)
    try:
        defect_type_delete(defect_type=defect_type)
    except DefectTypeInUse as error:
        messages.error(request, f"“{defect_type.name}” was not deleted: {error}.")
    else:
        messages.success(request, f"Defect type “{defect_type.name}” deleted.")
    return _back(collection, "#defect-types")


@require_POST
@collection_role_required(Role.MANAGER, MANAGERS_ONLY, back_to="collection-settings")
def collection_automation(request: HttpRequest, collection: Collection) -> HttpResponse:
    form = CollectionAutomationForm(request.POST)
    form.is_valid()  # two check boxes: an unticked one is simply absent, never invalid
    learning_settings_update(collection_id=collection.pk, **form.cleaned_data)
    messages.success(request, "Settings saved.")
    return _back(collection, "#automation")
