from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms

from core.errors import DomainError
from integrations.enums import Operation
from integrations.models import IntegrationSettings, SyncJob
from integrations.salesforce.login import CUSTOM_URL_HELP, LoginChoice
from integrations.salesforce.matching import Situation
from integrations.salesforce.phones import REGIONS, region_label
from tenants.forms import DomainListField


class IntegrationSettingsForm(forms.ModelForm[IntegrationSettings]):
    auto_sync_match_order = forms.CharField(
        label="Auto-sync match order",
        help_text="The first of these that matches an external attendee gets the Note "
        "and Event, e.g. Account, Opportunity, Lead, Contact. Add Domain to fall back "
        "to the Account whose website is on an attendee's company domain.",
    )
    free_mail_domains_extra = DomainListField(
        label="More free-mail domains",
        required=False,
        help_text="One domain per line. Like gmail.com and the other free-mail and "
        "consumer domains the portal knows, these never link an attendee to a company "
        "by domain.",
    )

    link_back_base_url = forms.URLField(
        label="Portal address for 'listen to the audio' links",
        required=False,
        assume_scheme="https",
    )
    phone_default_region = forms.ChoiceField(
        label="Country of phone numbers written without a country code",
        choices=[(region, region_label(region)) for region in REGIONS],
        required=False,
        help_text="A call's number such as (415) 555-0100 is read as a number of this "
        "country when Contacts and Leads are looked up by phone.",
    )
    internal_phone_numbers = forms.CharField(
        label="Your company's own phone numbers",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "+1 415 555 0100"}),
        help_text="One per line. A call participant on one of these numbers is one of "
        "your users: never looked up or logged.",
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
            "free_mail_domains_extra",
            "phone_default_region",
            "internal_phone_numbers",
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
            self.initial["internal_phone_numbers"] = "\n".join(
                self.instance.internal_phone_numbers or []
            )

    def clean_auto_sync_match_order(self) -> list[str]:
        names = [part.strip() for part in self.cleaned_data["auto_sync_match_order"].split(",")]
        return [name[:1].upper() + name[1:].lower() for name in names if name]

    def clean_phone_default_region(self) -> str:
        # Left out of the form: the region stays as it is.
        return str(self.cleaned_data["phone_default_region"] or self.instance.phone_default_region)

    def clean_internal_phone_numbers(self) -> list[str]:
        # The lines as typed (blank ones kept, so an error can name its line): the
        # service checks and normalises each.
        return str(self.cleaned_data["internal_phone_numbers"]).splitlines()


class SalesforceLoginForm(forms.Form):
    """Where the org signs in, asked before sending the admin to Salesforce. The
    address is checked by `login_url_for`, not here."""

    login = forms.ChoiceField(
        label="Which Salesforce org?",
        choices=[
            (LoginChoice.PRODUCTION.value, "Production"),
            (LoginChoice.SANDBOX.value, "Sandbox"),
            (LoginChoice.CUSTOM.value, "My Domain"),
        ],
        initial=LoginChoice.PRODUCTION.value,
        widget=forms.RadioSelect,
    )
    custom_url = forms.CharField(
        label="My Domain login address",
        required=False,
        max_length=255,
        help_text=CUSTOM_URL_HELP,
        widget=forms.URLInput(attrs={"placeholder": "https://acme.my.salesforce.com"}),
    )


# --- the sync pages: answers shaped for the services --------------------------------------------

# Records a member can link to by Id when the one they want was not offered.
RECORD_OBJECTS = [(name, name) for name in ("Account", "Opportunity", "Lead", "Contact")]
CREATE = "create"
OTHER = "other"
CREATE_LEAD = "create_lead"


def record_value(candidate: dict[str, Any], *, with_name: bool = False) -> str:
    """A candidate as one radio value, `Object:Id[:Name]`: Salesforce object names and
    Ids hold no colon, so whatever follows the second one is the name."""
    value = f"{candidate.get('object', '')}:{candidate.get('id', '')}"
    return f"{value}:{candidate.get('name', '')}" if with_name else value


def _record_from_value(value: str, names: dict[str, str]) -> dict[str, str]:
    sobject, _, rest = value.partition(":")
    record_id, has_name, name = rest.partition(":")
    return {
        "object": sobject,
        "id": record_id,
        "name": name if has_name else names.get(record_id, ""),
    }


class HighlightsSendForm(forms.Form):
    """The meeting page's send form: the highlights, then the record to send them to
    (`Object:Id:Name`, offered by the match preview or found by name), another record by
    Id, or the Account (and Opportunity) to create. The service checks the values; this
    only shapes them, and puts each refusal next to the field it is about.

    The preview's findings travel with the form (`situation`, `offered`), so a refused
    form is shown again as it was sent, without asking Salesforce again."""

    highlights = forms.MultipleChoiceField(label="Highlights")
    record = forms.CharField(label="Send to", max_length=320)
    other_object = forms.ChoiceField(
        label="Object",
        choices=[("Account", "Account"), ("Opportunity", "Opportunity")],
        required=False,
    )
    other_id = forms.CharField(label="Salesforce Id", max_length=18, required=False)
    account_name = forms.CharField(label="Account name", max_length=255, required=False)
    opportunity_name = forms.CharField(
        label="Opportunity name (optional)", max_length=120, required=False
    )
    situation = forms.ChoiceField(
        choices=[("", "")] + [(s.value, s.value) for s in Situation], required=False
    )
    offered = forms.Field(required=False, widget=forms.MultipleHiddenInput)

    def __init__(self, *args: Any, highlight_ids: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # `fields` holds copies of the fields declared above, typed only as Field.
        highlights = cast(forms.MultipleChoiceField, self.fields["highlights"])
        highlights.choices = [(h, h) for h in highlight_ids]
        self.fields["highlights"].error_messages["required"] = "Choose at least one highlight."
        self.fields["record"].error_messages["required"] = (
            "Choose a record, give one by its Id, or create an Account."
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("record") == OTHER and not str(data.get("other_id", "")).strip():
            self.add_error("other_id", "Paste the Salesforce Id of the record.")
        return data

    def send_kwargs(self) -> dict[str, Any]:
        """`highlight_ids` and `target` or `create` for `highlights_send`."""
        data = self.cleaned_data
        kwargs: dict[str, Any] = {"highlight_ids": data["highlights"]}
        if data["record"] == CREATE:
            kwargs["create"] = {
                "account_name": data["account_name"],
                "opportunity_name": data["opportunity_name"],
            }
        elif data["record"] == OTHER:
            kwargs["target"] = {"object": data["other_object"], "id": data["other_id"].strip()}
        else:
            kwargs["target"] = _record_from_value(data["record"], {})
        return kwargs

    def refuse(self, error: DomainError) -> None:
        """Show the service's refusal next to the field it is about (the record chosen,
        the Id typed, the Account's name), or above the form."""
        field = _SEND_FIELDS.get(error.field or "")
        message = error.message
        if error.field == "target" and self.data.get("record") == OTHER:
            # The object is one of this form's choices, so what was refused is the Id.
            field = "other_id"
            message = (
                "This is not a Salesforce Id: paste the record's 15 or 18 character Salesforce Id."
            )
        elif error.field == "target":
            field = "record"
        self.add_error(field, message)

    # --- what a refused form shows again, as it was sent --------------------------------

    def chosen(self) -> str:
        return str(self.data.get("record", "")) if self.is_bound else ""

    def offered_records(self) -> list[dict[str, str]]:
        """The records the preview had offered (each `Object:Id:Name`), then the one
        chosen when it was found by name instead."""
        getlist = getattr(self.data, "getlist", None)
        values = [str(v) for v in getlist("offered")] if getlist else []
        chosen = self.chosen()
        if chosen not in (CREATE, OTHER, "") and chosen not in values:
            values.append(chosen)
        return [_record_from_value(v, {}) for v in values if v.count(":") >= 1]

    def previewed_situation(self) -> Situation | None:
        try:
            return Situation(str(self.data.get("situation", "")))
        except ValueError:
            return None


# A service's field names -> the send form's.
_SEND_FIELDS = {
    "highlights": "highlights",
    "create.account_name": "account_name",
    "create": "account_name",
}


class SyncJobResolveForm(forms.Form):
    """The answer to a job waiting for review. For an activity, one answer per address
    (a record offered, or a new Lead); otherwise one record offered or another by Id."""

    def __init__(self, *args: Any, job: SyncJob, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"job{job.pk}")
        super().__init__(*args, **kwargs)
        self.job = job
        # Activity jobs ask which record each address is; the others ask for one record.
        per_email = job.operation == Operation.ACTIVITY_SYNC
        self.per_email = per_email
        candidates: list[dict[str, Any]] = list(job.candidates or [])
        self.names = {str(c.get("id", "")): str(c.get("name", "")) for c in candidates}
        if per_email:
            self.emails = list(dict.fromkeys(str(c["email"]) for c in candidates if c.get("email")))
            for index, email in enumerate(self.emails):
                offered = [
                    (record_value(c), f"{c.get('object')} {c.get('name') or c.get('id')}")
                    for c in candidates
                    if c.get("email") == email
                ]
                self.fields[f"choice_{index}"] = forms.ChoiceField(
                    label=email,
                    choices=[*offered, (CREATE_LEAD, "Create a Lead")],
                    widget=forms.RadioSelect,
                )
                self.fields[f"company_{index}"] = forms.CharField(
                    label="Company for a new Lead",
                    max_length=255,
                    required=False,
                    help_text="Taken from the email domain when left empty.",
                )
        else:
            offered = [
                (record_value(c), f"{c.get('object')} {c.get('name') or c.get('id')}")
                for c in candidates
            ]
            self.fields["choice"] = forms.ChoiceField(
                label="Link to",
                choices=[*offered, (OTHER, "Another record, by Id")],
                widget=forms.RadioSelect,
            )
            self.fields["other_object"] = forms.ChoiceField(
                label="Object", choices=RECORD_OBJECTS, required=False
            )
            self.fields["other_id"] = forms.CharField(
                label="Salesforce Id", max_length=18, required=False
            )

    def addresses(self) -> list[dict[str, Any]]:
        """For an activity, per address: the records offered for it and the fields of its
        answer, for a page that lays them out itself."""
        candidates: list[dict[str, Any]] = list(self.job.candidates or [])
        return [
            {
                "email": email,
                "candidates": [c for c in candidates if c.get("email") == email],
                "choice": self[f"choice_{index}"],
                "company": self[f"company_{index}"],
            }
            for index, email in enumerate(self.emails)
        ]

    def resolve_kwargs(self) -> dict[str, Any]:
        """`choice` or `choices` for `sync_job_resolve`."""
        data = self.cleaned_data
        if self.per_email:
            choices: dict[str, Any] = {}
            for index, email in enumerate(self.emails):
                value = data[f"choice_{index}"]
                if value == CREATE_LEAD:
                    choices[email] = {"object": CREATE_LEAD, "company": data[f"company_{index}"]}
                else:
                    choices[email] = _record_from_value(value, self.names)
            return {"choices": choices}
        if data["choice"] == OTHER:
            return {"choice": {"object": data["other_object"], "id": data["other_id"].strip()}}
        return {"choice": _record_from_value(data["choice"], self.names)}


class SyncJobTargetForm(forms.Form):
    """The one record a job links to, as ops choose it: a candidate or a record found by
    name (`Object:Id:Name`, the radio values of the page), or another record by Id. The
    service checks the record; this only shapes the answer."""

    record = forms.CharField(max_length=320)
    other_object = forms.ChoiceField(label="Object", choices=RECORD_OBJECTS, required=False)
    other_id = forms.CharField(label="Salesforce Id", max_length=18, required=False)

    def __init__(self, *args: Any, objects: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["record"].error_messages["required"] = (
            "Choose a record, or give another one by its Id."
        )
        # The objects the job's record may be (the service says which).
        other_object = cast(forms.ChoiceField, self.fields["other_object"])
        other_object.choices = [(name, name) for name in objects]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("record") == OTHER and not str(data.get("other_id", "")).strip():
            self.add_error("other_id", "Paste the Salesforce Id of the record.")
        return data

    def choice(self) -> dict[str, str]:
        """`choice` for `sync_job_resolve` and `sync_job_retarget`."""
        data = self.cleaned_data
        if data["record"] == OTHER:
            return {"object": data["other_object"], "id": data["other_id"].strip()}
        return _record_from_value(data["record"], {})


class SyncJobDismissForm(forms.Form):
    reason = forms.CharField(
        label="Why is it dismissed?",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Shown in the job's history and in the tenant's sync log. Nothing "
        "already written to Salesforce is undone; the job only stops.",
    )
