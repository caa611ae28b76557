from django.contrib import admin

from annotations.models import (
    Annotation,
    AnnotationRevision,
    Collection,
    DefectType,
    Image,
    Membership,
    Project,
    Region,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "created_by", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


class DefectTypeInline(admin.TabularInline):
    model = DefectType
    extra = 0


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "created_at"]
    list_filter = ["project"]
    search_fields = ["name"]
    inlines = [DefectTypeInline]


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["id", "original_name", "collection", "split", "format", "width", "height", "mode"]
    list_filter = ["split", "format", "collection"]
    search_fields = ["original_name", "sha256"]
    # What describes the stored file is fixed at ingest; only the split is a person's choice.
    readonly_fields = [
        field.name for field in Image._meta.fields if field.name not in ("split", "collection", "id")
    ]


class RegionInline(admin.TabularInline):
    model = Region
    extra = 0
    readonly_fields = ["kind", "defect_type", "precision", "geometry"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    """Read-only: labels change through the API, which checks versions and writes revisions."""

    list_display = ["image", "verdict", "version", "updated_by", "updated_at"]
    list_filter = ["verdict"]
    inlines = [RegionInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(AnnotationRevision)
class AnnotationRevisionAdmin(admin.ModelAdmin):
    """Append-only history: nobody edits or deletes it by hand."""

    list_display = ["annotation", "version", "verdict", "reason", "author", "created_at"]
    list_filter = ["reason"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False
