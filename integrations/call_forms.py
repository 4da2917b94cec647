"""The form of a call's page that asks Salesforce to log it: for each outside person
it asks about, which record they are (one of the records their address matches), or
that a Lead is to be made for them. The services check the answers; this only shapes
them."""

from __future__ import annotations

from typing import Any

from django import forms

from integrations.activity_state import ParticipantMatch
from integrations.services.choices import CREATE_LEAD

# "Find their record by email, as logging does" (no answer sent for that address).
BY_EMAIL = "by_email"


def record_value(candidate: dict[str, Any]) -> str:
    """A candidate as one radio value, `Object:Id` (neither holds a colon)."""
    return f"{candidate.get('object', '')}:{candidate.get('id', '')}"


class CallLogForm(forms.Form):
    """One radio group (`choice_<n>`) and one company field (`company_<n>`) per person
    asked about. With `choosing` (a job waits for the choice), each person must be
    answered with a record or a Lead; otherwise matching by email is the default."""

    def __init__(
        self, *args: Any, people: list[ParticipantMatch], choosing: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.people = people
        self.choosing = choosing
        for index, person in enumerate(people):
            offered = [(record_value(c), _candidate_words(c)) for c in person.candidates]
            if not choosing:
                offered.append((BY_EMAIL, _by_email_words(person)))
            self.fields[f"choice_{index}"] = forms.ChoiceField(
                label=person.email,
                choices=[*offered, (CREATE_LEAD, "Create a Lead")],
                widget=forms.RadioSelect,
                initial=None if choosing else BY_EMAIL,
                error_messages={
                    "required": f"Choose which record {person.email} is, or create a Lead."
                },
            )
            self.fields[f"company_{index}"] = forms.CharField(
                label="Company of the new Lead",
                max_length=255,
                required=False,
                help_text="Taken from the email's domain when left empty.",
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
                    "choice": choice,
                    "company": self[f"company_{index}"],
                    "chosen": str(choice.value() or ""),
                    "candidates": [{**c, "value": record_value(c)} for c in person.candidates],
                    "create_lead": CREATE_LEAD,
                    "by_email": BY_EMAIL,
                    "by_email_words": _by_email_words(person),
                }
            )
        return rows

    def choices(self) -> dict[str, dict[str, str]]:
        """Per address answered: `{"object", "id", "name"}` for a record offered, or
        `{"object": "create_lead", "company"}`; addresses left to matching are absent."""
        answers: dict[str, dict[str, str]] = {}
        for index, person in enumerate(self.people):
            value = self.cleaned_data[f"choice_{index}"]
            if value == CREATE_LEAD:
                company = self.cleaned_data[f"company_{index}"].strip()
                answers[person.email] = {"object": CREATE_LEAD, "company": company}
            elif value != BY_EMAIL:
                sobject, _, record_id = value.partition(":")
                name = next(
                    (c.get("name", "") for c in person.candidates if c.get("id") == record_id),
                    "",
                )
                answers[person.email] = {"object": sobject, "id": record_id, "name": name}
        return answers


def _candidate_words(candidate: dict[str, Any]) -> str:
    words = f"{candidate.get('object')} {candidate.get('name') or candidate.get('id')}"
    if candidate.get("account"):
        words += f", {candidate['account']}"
    return words


def _by_email_words(person: ParticipantMatch) -> str:
    if person.remembered is not None:
        return (
            f"The record chosen before ({person.remembered.salesforce_object} "
            f"{person.remembered.salesforce_id})"
        )
    return "Find their Contact or Lead by email"
