"""Query parameters of the line's lists, validated, as the keyword arguments of their selectors."""

from config.api import BooleanFilter, IdFilter, SelectorFilterSet
from line import selectors


class StationFilterSet(SelectorFilterSet):
    selector = staticmethod(selectors.station_list)
    collection = IdFilter(field_name="collection_id", help_text="Only this collection's stations")


class InspectionFilterSet(SelectorFilterSet):
    selector = staticmethod(selectors.inspection_list)
    collection = IdFilter(field_name="collection_id", help_text="Only this collection's inspections")
    station = IdFilter(field_name="station_id", help_text="Only this station's inspections")
    defective = BooleanFilter(field_name="is_defective", help_text="Only those judged defective (or not)")
