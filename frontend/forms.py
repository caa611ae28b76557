from urllib.parse import urlencode

from django import forms

from annotations.models import DefectType, Role, Split, Verdict
from inference.ml.catalogue import ALGORITHMS
from inference.models import ReviewStrategy


class ProjectCreateForm(forms.Form):
    name = forms.CharField(max_length=200, strip=True)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    # Whether the name is free among the user's projects is project_create's rule (ProjectNameTaken).


class ImageFilterForm(forms.Form):
    """The grid's filters, order and cursor; a value that does not validate is ignored."""

    # The fields that links out of the grid carry, so the image pages and the next page keep them.
    KEPT = ("split", "verdict", "defect_type", "reviewed", "score_min", "score_max", "order")
    REVIEWED = {"yes": True, "no": False}

    split = forms.ChoiceField(required=False, choices=[("", "Any split"), *Split.choices])
    verdict = forms.ChoiceField(required=False, choices=[("", "Any verdict"), *Verdict.choices])
    defect_type = forms.ModelChoiceField(
        required=False, queryset=DefectType.objects.none(), empty_label="Any defect type"
    )
    reviewed = forms.ChoiceField(
        required=False, choices=[("", "Reviewed or not"), ("yes", "Reviewed"), ("no", "Not reviewed")]
    )
    score_min = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1,
        widget=forms.NumberInput(attrs={"step": "0.01", "placeholder": "0", "aria-label": "Lowest score"}),
    )
    score_max = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1,
        widget=forms.NumberInput(attrs={"step": "0.01", "placeholder": "1", "aria-label": "Highest score"}),
    )
    order = forms.ChoiceField(
        required=False,
        choices=[("", "Upload order"), ("-score", "Highest score first"), ("score", "Lowest score first")],
    )
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    before = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, defect_types, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["defect_type"].queryset = defect_types

    def _valid(self) -> dict:
        self.is_valid()
        return getattr(self, "cleaned_data", {})

    def filters(self) -> dict:
        """The valid filters as keyword arguments of `selectors.image_list`."""
        data = self._valid()
        defect_type = data.get("defect_type")
        return {
            "split": data.get("split") or None,
            "verdict": data.get("verdict") or None,
            "defect_type_id": defect_type.pk if defect_type else None,
            "reviewed": self.REVIEWED.get(data.get("reviewed", "")),
            "score_min": data.get("score_min"),
            "score_max": data.get("score_max"),
        }

    def ordering(self) -> str:
        """One of `selectors.IMAGE_ORDERS`."""
        return self._valid().get("order") or "id"

    def query(self) -> str:
        """The valid filters and order as a query string, for links that keep them."""
        data = self._valid()
        values = {name: data.get(name) for name in self.KEPT}
        if values["defect_type"] is not None:
            values["defect_type"] = values["defect_type"].pk
        return urlencode({name: value for name, value in values.items() if value not in (None, "")})

    def cursor(self) -> tuple[int | None, int | None]:
        data = self._valid()
        return data.get("after"), data.get("before")


class TrainForm(forms.Form):
    algorithm = forms.ChoiceField(choices=[(name, name) for name in ALGORITHMS])
    # The backbone sees square canvases of this side; its feature grid needs a multiple of 32.
    image_size = forms.IntegerField(
        min_value=32, max_value=1024, step_size=32, initial=320, label="Image size, px"
    )


class LearningSettingsForm(forms.Form):
    review_strategy = forms.ChoiceField(label="Queue order", choices=ReviewStrategy.choices)
    retrain_after_reviews = forms.IntegerField(
        label="Retrain after", min_value=0, max_value=100_000, help_text="decisions (0: only on demand)"
    )
    algorithm = forms.ChoiceField(choices=[(name, name) for name in ALGORITHMS])


class StationCreateForm(forms.Form):
    """A new station of one of the project's collections."""

    collection = forms.ModelChoiceField(queryset=None, empty_label=None)
    name = forms.CharField(
        max_length=100, strip=True, widget=forms.TextInput(attrs={"placeholder": "line 1, camera A"})
    )

    def __init__(self, *args, collections, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["collection"].queryset = collections


# --- a project's set-up: collections, members, defect types, what a collection does by itself ---


class CollectionForm(forms.Form):
    """A new collection, or a collection's new name and description."""

    name = forms.CharField(
        max_length=200, strip=True, widget=forms.TextInput(attrs={"placeholder": "M8 screws"})
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    # Whether the name is free in the project is the database's one rule (CollectionNameTaken).


class MemberAddForm(forms.Form):
    user = forms.CharField(
        label="Username or e-mail",
        max_length=254,
        strip=True,
        widget=forms.TextInput(attrs={"placeholder": "username or name@example.com", "autocomplete": "off"}),
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ANNOTATOR)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class DefectTypeForm(forms.Form):
    """A defect type's name, colour and hotkey; the hotkey's rules (one key, free in the collection,
    none of the annotator's own) are the service's (HotkeyRefused)."""

    name = forms.CharField(max_length=100, strip=True)
    color = forms.RegexField(
        regex=r"^#[0-9a-fA-F]{6}$",
        initial="#e6194b",
        error_messages={"invalid": "a colour is #rrggbb, e.g. #e6194b"},
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    hotkey = forms.CharField(
        required=False,
        max_length=1,
        strip=False,
        widget=forms.TextInput(attrs={"size": 2, "maxlength": 1, "placeholder": "1", "autocomplete": "off"}),
    )


class CollectionAutomationForm(forms.Form):
    """What a collection does by itself when new images or versions arrive."""

    score_new_uploads = forms.BooleanField(
        required=False, label="Score new uploads with the production version"
    )
    promote_better_child = forms.BooleanField(required=False, label="Promote a better child automatically")
