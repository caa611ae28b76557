from django import forms

from annotations.models import DefectType, Project, Split, Verdict


class ProjectCreateForm(forms.Form):
    name = forms.CharField(max_length=200, strip=True)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        # Project names are unique across the whole instance.
        if Project.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError("A project with this name already exists: choose another name.")
        return name


class ImageFilterForm(forms.Form):
    """The grid's filters and its cursor; a value that does not validate is ignored."""

    split = forms.ChoiceField(required=False, choices=[("", "Any split"), *Split.choices])
    verdict = forms.ChoiceField(required=False, choices=[("", "Any verdict"), *Verdict.choices])
    defect_type = forms.ModelChoiceField(
        required=False, queryset=DefectType.objects.none(), empty_label="Any defect type"
    )
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    before = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, defect_types, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["defect_type"].queryset = defect_types

    def filters(self) -> dict:
        """The valid filters as keyword arguments of `selectors.image_list`."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        defect_type = data.get("defect_type")
        return {
            "split": data.get("split") or None,
            "verdict": data.get("verdict") or None,
            "defect_type_id": defect_type.pk if defect_type else None,
        }

    def cursor(self) -> tuple[int | None, int | None]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return data.get("after"), data.get("before")
