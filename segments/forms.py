"""The segment form: a definition is saved only when it parses and type-checks."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from pushcenter.request_limits import BoundedJSONField
from segments import services
from segments.models import Segment


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["app", "name", "description", "definition", "custom_property_types"]
        field_classes = {"custom_property_types": BoundedJSONField}
        widgets = {
            "definition": forms.Textarea(
                attrs={"rows": 4, "class": "segment-definition", "spellcheck": "false"}
            ),
            "description": forms.Textarea(attrs={"rows": 2}),
            "custom_property_types": forms.Textarea(attrs={"rows": 2}),
        }

    def clean(self) -> dict:
        data = super().clean()
        app, definition = data.get("app"), data.get("definition")
        declared = data.get("custom_property_types") or {}
        if app and definition and isinstance(declared, dict):
            try:
                services.validate_definition(app, definition, declared)
            except ValidationError as error:
                self.add_error(None, error)
        return data
