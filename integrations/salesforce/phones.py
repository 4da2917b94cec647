"""Phone numbers as the matching rules compare them: E.164 ("+14155550100"), read with
Google's libphonenumber (the `phonenumbers` port). A number written without its country
code ("(415) 555-0100") is read in a region, the tenant's default one for the numbers the
portal receives. Pure functions: nothing here talks to Salesforce or the database."""

from __future__ import annotations

from collections.abc import Iterable

import phonenumbers

# Every region libphonenumber knows, as ISO 3166-1 alpha-2 codes ("US", "GB", ...).
REGIONS: tuple[str, ...] = tuple(sorted(phonenumbers.SUPPORTED_REGIONS))


def region_is_known(region: str) -> bool:
    return region in phonenumbers.SUPPORTED_REGIONS


def region_label(region: str) -> str:
    """A region as a person picks it: "GB (+44)"."""
    return f"{region} (+{phonenumbers.country_code_for_region(region)})"


def key_shown(key: str) -> str:
    """A participant's key as a person reads it: an address as it is, a number in E.164
    with its country code and groups ("+1 415-555-0100")."""
    if not is_e164(key):
        return key
    try:
        number = phonenumbers.parse(key, None)
    except phonenumbers.NumberParseException:
        return key
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_e164(raw: str, region: str) -> str | None:
    """The number in E.164, or None when it is not a valid phone number (too short, too
    long, a number no plan allows). A number starting with "+" (or an international
    prefix) carries its country; any other is read as a national number of `region`."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_e164(key: str) -> bool:
    """Whether a participant's key (an address, or a number for someone known only by
    phone) is a phone number."""
    return key.startswith("+") and key[1:].isdigit()


def region_of(e164: str) -> str:
    """The region an E.164 number belongs to ("" for a non-geographic number)."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) or ""
    except phonenumbers.NumberParseException:
        return ""


def stored_number_matches(stored: str, numbers: set[str], regions: Iterable[str]) -> set[str]:
    """Which of the E.164 `numbers` a number as Salesforce stores it ("(415) 555-0100",
    "+44 20 7946 0958", "020 7946 0958") is. A stored number without its country code is
    read in the regions of the numbers searched for (`regions`): Salesforce's search
    matched its digits, and a national number means something only in its own country."""
    if not stored:
        return set()
    return {n for r in regions if (n := phone_e164(stored, r)) is not None} & numbers


def phone_numbers_e164(lines: Iterable[str], region: str) -> tuple[list[str], list[str]]:
    """Numbers given one per entry (blank entries ignored): the valid ones in E.164, in
    order and each once, and the entries that are not phone numbers."""
    valid: list[str] = []
    invalid: list[str] = []
    for line in lines:
        text = line.strip()
        if not text:
            continue
        number = phone_e164(text, region)
        if number is None:
            invalid.append(text)
        elif number not in valid:
            valid.append(number)
    return valid, invalid
