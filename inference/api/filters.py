"""The lists' query parameters, as in `annotations.api.filters`: typed, validated, in the schema."""

from typing import Any

import django_filters
from django import forms

from annotations.api.filters import ImageFilterSet
from config.api import BooleanFilter, IdFilter, NumberFilter, SelectorFilterSet
from inference import selectors
from inference.models import JobKind, JobStatus, ModelVersionStatus


class JobFilterSet(SelectorFilterSet):
    selector = staticmethod(selectors.job_list)
    collection = IdFilter(field_name="collection_id")
    model_version = IdFilter(field_name="model_version_id")
    status = django_filters.ChoiceFilter(field_name="status", choices=JobStatus.choices)
    kind = django_filters.ChoiceFilter(field_name="kind", choices=JobKind.choices)


class ModelVersionFilterSet(SelectorFilterSet):
    selector = staticmethod(selectors.model_version_list)
    collection = IdFilter(field_name="collection_id")
    status = django_filters.ChoiceFilter(field_name="status", choices=ModelVersionStatus.choices)


class PredictionFilterSet(SelectorFilterSet):
    selector = staticmethod(selectors.prediction_list)
    model_version = IdFilter(field_name="model_version_id")
    image = IdFilter(field_name="image_id")
    is_defective = BooleanFilter(field_name="is_defective")


class ReviewFilterSet(SelectorFilterSet):
    selector = staticmethod(selectors.review_list)
    collection = IdFilter(field_name="collection_id")
    model_version = IdFilter(field_name="model_version_id")
    image = IdFilter(field_name="image_id")


class DisagreementFilterSet(SelectorFilterSet):
    selector = staticmethod(selectors.disagreement_list)
    collection = IdFilter(field_name="collection_id")
    image = IdFilter(field_name="image_id")
    open = BooleanFilter(field_name="open_only", help_text="true: only those nobody resolved yet")


class _ScoredImageForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("model_version") is None:
            for name in ("score_min", "score_max", "order"):
                if data.get(name) not in (None, ""):
                    self.add_error(name, "needs model_version: the scores are a model version's")
        return data


# The API's list is newest first; these order it by score instead (the pagination follows them).
API_IMAGE_ORDERS = [("score", "Lowest score first"), ("-score", "Highest score first")]


class ScoredImageFilterSet(ImageFilterSet):
    selector = staticmethod(selectors.scored_image_list)
    model_version = IdFilter(
        field_name="model_version_id", help_text="The model version whose scores the score filters use"
    )
    score_min = NumberFilter(field_name="score_min", help_text="Normalized score at least this")
    score_max = NumberFilter(field_name="score_max", help_text="Normalized score at most this")
    reviewed = BooleanFilter(
        field_name="reviewed", help_text="Whether someone reviewed a prediction of the image (any version)"
    )
    order = django_filters.ChoiceFilter(
        field_name="order", choices=API_IMAGE_ORDERS, help_text="By score; newest first when left out"
    )

    class Meta:
        form = _ScoredImageForm
