"""A person's answer to "which Salesforce record is this?": checked, put in the form
the API answers with, and remembered per email address, or per phone number (E.164) for
someone known only by phone."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal, TypedDict

from django.contrib.auth.models import User

from core.errors import InvalidInput
from integrations.models import MatchChoice
from integrations.salesforce.phones import key_shown, phone_e164
from tenants.models import Tenant

RecordObject = Literal["Account", "Opportunity", "Lead", "Contact"]
ORGANISATIONS: tuple[RecordObject, ...] = ("Account", "Opportunity")
PEOPLE: tuple[RecordObject, ...] = ("Contact", "Lead")
ANY_RECORD: tuple[RecordObject, ...] = ("Account", "Opportunity", "Lead", "Contact")

CREATE_LEAD: Final = "create_lead"

SALESFORCE_ID = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")


class RecordChoice(TypedDict):
    """An existing record a person chose (stored in job params as such)."""

    object: RecordObject
    id: str
    name: str


class LeadRequest(TypedDict):
    """A person's answer "this address is nobody yet: make a Lead"."""

    object: Literal["create_lead"]
    company: str


PersonChoice = RecordChoice | LeadRequest


def salesforce_id_18(record_id: str) -> str:
    """The 18-character form of an Id (what the API answers), from the 15-character one
    people copy from Salesforce's pages: three checksum letters encode the case of each
    five-character block."""
    if len(record_id) != 15:
        return record_id
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    suffix = ""
    for block in range(3):
        bits = sum(
            1 << i for i, ch in enumerate(record_id[block * 5 : block * 5 + 5]) if ch.isupper()
        )
        suffix += alphabet[bits]
    return record_id + suffix


def record_choice(
    choice: Mapping[str, Any], *, allowed: tuple[RecordObject, ...], field: str
) -> RecordChoice:
    """Check a chosen record (`{"object", "id", "name"?}`): one of the `allowed` objects
    and a well-formed Id, returned with its 18-character Id."""
    name = str(choice.get("object", ""))
    record_id = str(choice.get("id", ""))
    sobject = next((obj for obj in allowed if obj == name), None)
    if sobject is None:
        raise InvalidInput(f"'object' must be one of {', '.join(allowed)}.", field=field)
    if not SALESFORCE_ID.match(record_id):
        raise InvalidInput("'id' must be a 15 or 18 character Salesforce Id.", field=field)
    return {
        "object": sobject,
        "id": salesforce_id_18(record_id),
        "name": str(choice.get("name", ""))[:255],
    }


def person_choice(value: Mapping[str, Any] | None) -> PersonChoice:
    """One address's answer for an activity: a Contact or Lead, or a Lead to create."""
    if isinstance(value, Mapping) and value.get("object") == CREATE_LEAD:
        return {"object": CREATE_LEAD, "company": str(value.get("company", ""))[:255]}
    return record_choice(value or {}, allowed=PEOPLE, field="choices")


def match_choice_remember(
    *, tenant: Tenant, email: str, choice: RecordChoice, user: User | None
) -> None:
    """Remember which record an address is, so later activities need no question. For
    someone known only by phone, `email` is their E.164 number: the choice is
    remembered for that number."""
    _choice_key_check(email)
    MatchChoice.objects.update_or_create(
        tenant=tenant,
        **MatchChoice.key_of(email),
        defaults={
            "salesforce_object": choice["object"],
            "salesforce_id": choice["id"],
            "chosen_by": user,
        },
    )


def _choice_key_check(key: str) -> None:
    """A choice is remembered for an address, or for a number written in E.164 exactly
    as the jobs key it; anything else would be remembered for nobody."""
    if key.startswith("+"):
        if phone_e164(key, "") != key:
            raise InvalidInput(
                f"{key} is not a phone number in E.164 (a + then the country code and the "
                "number, digits only, e.g. +14155550100).",
                field="choices",
            )
    elif "@" not in key:
        raise InvalidInput(
            f"'{key}' is neither an email address nor a phone number in E.164.", field="choices"
        )


def _id_18(answer: Mapping[str, Any]) -> str:
    """The answer's record Id in its 18-character form (as offers name it)."""
    record_id = str(answer.get("id", ""))
    return salesforce_id_18(record_id) if SALESFORCE_ID.match(record_id) else record_id


def call_answers_check(
    *,
    offered: Mapping[str, Sequence[Mapping[str, Any]]],
    answers: Mapping[str, Mapping[str, Any]],
    choosing: bool,
) -> dict[str, PersonChoice]:
    """Check the answers given on a call's page against what the page offered
    (`offered`: each person asked about, by address or E.164 number, with the records
    offered for them), and return them as the services take them.

    1. Each answer is for someone asked about: an address or number the page did not
       offer (a page left open while the call changed, or altered) is refused.
    2. A record must be one of those offered for that person; its name is the one the
       offer showed.
    3. A Lead may be asked for anyone asked about.
    4. While a job waits for the choice, everyone it asks about is answered.
    """
    checked: dict[str, PersonChoice] = {}
    for key, answer in answers.items():
        shown = key_shown(key)
        if not isinstance(answer, Mapping):
            raise InvalidInput(
                f'The answer for {shown} must be a record ({{"object", "id"}}) or '
                '{"object": "create_lead"}.',
                field="choices",
            )
        if key not in offered:
            raise InvalidInput(
                f"The answer for {shown or 'nobody'} is refused: this call does not ask "
                "about them. Reload the page and choose again.",
                field="choices",
            )
        if answer.get("object") == CREATE_LEAD:
            checked[key] = person_choice(answer)
            continue
        record = next(
            (
                c
                for c in offered[key]
                if (c.get("object"), c.get("id")) == (answer.get("object"), _id_18(answer))
            ),
            None,
        )
        if record is None:
            raise InvalidInput(
                f"The record chosen for {shown} is not one of those offered for them: "
                "choose one of the records listed, or create a Lead.",
                field="choices",
            )
        checked[key] = record_choice(record, allowed=PEOPLE, field="choices")
    unanswered = [key for key in offered if choosing and key not in checked]
    if unanswered:
        raise InvalidInput(
            f"Choose which record {key_shown(unanswered[0])} is, or create a Lead.",
            field="choices",
        )
    return checked
