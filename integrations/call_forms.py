"""The form of a call's page that asks Salesforce to log it: for each outside person
it asks about (by address, or by number for someone known only by phone), which record
they are (one of the records their address or number matches), or that a Lead is to be
made for them. The services check the answers; this only shapes them."""

from __future__ import annotations

from typing import Any

from django import forms

from integrations.activity_state import ParticipantMatch
from integrations.salesforce.phones import key_shown
from integrations.services.choices import CREATE_LEAD

# "Find their record as logging does" (no answer sent for that address or number).
BY_EMAIL = "by_email"


def record_value(candidate: dict[str, Any]) -> str:
    """A candidate as one radio value, `Object:Id` (neither holds a colon)."""
    return f"{candidate.get('object', '')}:{candidate.get('id', '')}"


class CallLogForm(forms.Form):
    """Per person asked about: whom the answer is for (`person_<n>`, their address or
    E.164 number, so that an answer never lands on someone else), one radio group
    (`choice_<n>`) and one company field (`company_<n>`). With `choosing` (a job waits
    for the choice), each person must be answered with a record or a Lead; otherwise
    matching by address or number is the default."""

    def __init__(
        self, *args: Any, people: list[ParticipantMatch], choosing: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.people = people
        self.choosing = choosing
        for index, person in enumerate(people):
            self.fields[f"person_{index}"] = forms.CharField(
                widget=forms.HiddenInput, initial=person.key, max_length=254, required=False
            )
            # The radios are laid out by the template; which values are acceptable is
            # the services' to say (`call_answers_check`).
            self.fields[f"choice_{index}"] = forms.CharField(
                label=person.shown_as,
                required=choosing,
                initial=None if choosing else BY_EMAIL,
                error_messages={
                    "required": f"Choose which record {person.shown_as} is, or create a Lead."
                },
            )
            self.fields[f"company_{index}"] = forms.CharField(
                label="Company of the new Lead",
                max_length=255,
                required=False,
                help_text=(
                    'Left empty, the Lead\'s company is "Unknown".'
                    if person.by_phone
                    else "Taken from the email's domain when left empty."
                ),
            )

    def rows(self) -> list[dict[str, Any]]:
        """Per person: who, the records offered with their radio values, and the bound
        fields, for a template that lays them out as a table."""
        rows = []
        for index, person in enumerate(self.people):
            choice = self[f"choice_{index}"]
            rows.append(
                {
                    "person": person,
                    "key": self[f"person_{index}"],
                    "choice": choice,
                    "company": self[f"company_{index}"],
                    "chosen": str(choice.value() or ""),
                    "candidates": [
                        {**c, "value": record_value(c), "shown": key_shown(c.get("email", ""))}
                        for c in person.candidates
                    ],
                    "create_lead": CREATE_LEAD,
                    "by_email": BY_EMAIL,
                    "by_email_words": _by_email_words(person),
                }
            )
        return rows

    def choices(self) -> dict[str, dict[str, str]]:
        """Per address or number answered: `{"object", "id"}` for a record, or
        `{"object": "create_lead", "company"}`; those left to matching are absent."""
        answers: dict[str, dict[str, str]] = {}
        for index, person in enumerate(self.people):
            # An answer sent without saying whom it is for is for the person shown there.
            key = self.cleaned_data[f"person_{index}"].strip() or person.key
            value = self.cleaned_data[f"choice_{index}"]
            if value == CREATE_LEAD:
                company = self.cleaned_data[f"company_{index}"].strip()
                answers[key] = {"object": CREATE_LEAD, "company": company}
            elif value and value != BY_EMAIL:
                sobject, _, record_id = value.partition(":")
                answers[key] = {"object": sobject, "id": record_id}
        return answers


def _by_email_words(person: ParticipantMatch) -> str:
    if person.remembered is not None:
        return (
            f"The record chosen before for this {'number' if person.by_phone else 'address'} "
            f"({person.remembered.salesforce_object} {person.remembered.salesforce_id})"
        )
    if person.by_phone:
        return "Find their Contact or Lead by phone number"
    return "Find their Contact or Lead by email"
