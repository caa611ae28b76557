"""The lists' query parameters: typed, validated (a bad value is a 400 naming it) and in the schema,
handed to the membership-scoped selectors."""

import django_filters

from annotations import selectors
from annotations.models import Split, Verdict
from config.api import BooleanFilter, IdFilter, SelectorFilterSet


class ProjectFilterSet(SelectorFilterSet):
    selector = staticmethod(selectors.project_list)


class _OfProjectFilterSet(SelectorFilterSet):
    project = IdFilter(field_name="project_id", help_text="Only this project's")


class MembershipFilterSet(_OfProjectFilterSet):
    selector = staticmethod(selectors.membership_list)


class CollectionFilterSet(_OfProjectFilterSet):
    selector = staticmethod(selectors.collection_list)
    archived = BooleanFilter(
        field_name="archived",
        help_text="true: only archived collections; false: only open ones; left out: both",
    )


class DefectTypeFilterSet(SelectorFilterSet):
    selector = staticmethod(selectors.defect_type_list)
    collection = IdFilter(field_name="collection_id", help_text="Only this collection's")


class ImageFilterSet(SelectorFilterSet):
    selector = staticmethod(selectors.image_list)
    collection = IdFilter(field_name="collection_id", help_text="Only this collection's images")
    split = django_filters.ChoiceFilter(field_name="split", choices=Split.choices)
    verdict = django_filters.ChoiceFilter(field_name="verdict", choices=Verdict.choices)
    defect_type = IdFilter(
        field_name="defect_type_id", help_text="Only images with a region of this defect type"
    )
