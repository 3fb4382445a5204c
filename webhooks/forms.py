"""The endpoint form of the dashboard: URL, kinds of events, description, enabled."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from devices import delivery_events
from webhooks import services
from webhooks.models import Endpoint

KIND_LABELS = {
    delivery_events.SENT: "Sent — the provider accepted the push",
    delivery_events.FAILED: "Failed — the provider refused it (with the reason)",
    delivery_events.LAUNCHED: "Launched — the app reported a launch from it",
    delivery_events.CONVERTED: "Converted — a conversion was recorded",
    delivery_events.OPTED_OUT: "Opted out — push turned off, or the device is gone",
}


class EndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=[(kind, KIND_LABELS[kind]) for kind in delivery_events.KINDS],
        widget=forms.CheckboxSelectMultiple,
        initial=list(delivery_events.KINDS),
        help_text="The kinds of events this endpoint receives.",
    )

    class Meta:
        model = Endpoint
        fields = ["app", "url", "description", "enabled"]
        help_texts = {
            "url": "https only, on a host that resolves to public addresses; redirects are not "
            "followed.",
        }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["events"] = self.instance.kinds

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            return services.check_url(url)
        except ValidationError as error:
            raise ValidationError(error.message_dict["url"]) from None

    def clean(self) -> dict:
        cleaned = super().clean()
        app = cleaned.get("app")
        if not self.instance.pk and app is not None:
            try:
                services.check_room(app)
            except ValidationError as error:
                self.add_error("app", error.message_dict["url"])
        return cleaned
