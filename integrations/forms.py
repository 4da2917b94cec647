from __future__ import annotations

from typing import Any

from django import forms

from integrations.models import IntegrationSettings


class IntegrationSettingsForm(forms.ModelForm):
    auto_sync_match_order = forms.CharField(
        label="Auto-sync match order",
        help_text="The first of these that matches an external attendee gets the Note "
        "and Event, e.g. Account, Opportunity, Lead, Contact.",
    )

    link_back_base_url = forms.URLField(
        label="Portal address for 'listen to the audio' links",
        required=False,
        assume_scheme="https",
    )

    class Meta:
        model = IntegrationSettings
        fields = [
            "highlights_destination",
            "note_flavour",
            "auto_sync",
            "auto_sync_match_order",
            "log_scheduled_meetings",
            "log_calls_automatically",
            "link_back_base_url",
        ]
        labels = {
            "highlights_destination": "Send highlights as",
            "note_flavour": "Note type",
            "auto_sync": "Sync every processed meeting automatically",
            "log_scheduled_meetings": "Log scheduler bookings as open activities",
            "log_calls_automatically": "Log calls and conferences automatically",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.pk:
            self.initial["auto_sync_match_order"] = ", ".join(self.instance.auto_sync_match_order)

    def clean_auto_sync_match_order(self) -> list[str]:
        names = [part.strip() for part in self.cleaned_data["auto_sync_match_order"].split(",")]
        return [name[:1].upper() + name[1:].lower() for name in names if name]
