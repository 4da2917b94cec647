"""A person's answer to "which Salesforce record is this?": checked, put in the form
the API answers with, and remembered per email address."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, Literal, TypedDict

from django.contrib.auth.models import User

from core.errors import InvalidInput
from integrations.models import MatchChoice
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
    MatchChoice.objects.update_or_create(
        tenant=tenant,
        **MatchChoice.key_of(email),
        defaults={
            "salesforce_object": choice["object"],
            "salesforce_id": choice["id"],
            "chosen_by": user,
        },
    )
