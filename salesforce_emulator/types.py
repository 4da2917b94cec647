"""Types shared by the emulator's record store and its SOQL engine.

The SOQL engine (``soql.py``) reads records only through the ``Catalog`` protocol, so
the store can change without the engine knowing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class FieldInfo:
    """One field of an sObject, as the describe call reports it.

    ``type`` uses the describe names: id, string, email, phone, url, textarea,
    picklist, multipicklist, combobox, boolean, int, double, currency, percent, date,
    datetime, reference, base64.
    """

    name: str
    type: str
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    filterable: bool = True
    sortable: bool = True


class Catalog(Protocol):
    """What the SOQL engine needs from an org.

    Record values are plain Python: ``str``, ``bool``, ``int``, ``float`` or ``None``;
    a date is an ISO string (``"2026-01-31"``) and a datetime an ISO string in
    Salesforce's form (``"2026-01-31T09:30:00.000+0000"``). Every record has ``Id``
    (18 characters) and ``IsDeleted``.
    """

    def object_name(self, sobject: str) -> str | None:
        """The canonical spelling of an sObject name (case-insensitive), or None."""

    def object_fields(self, sobject: str) -> Mapping[str, FieldInfo] | None:
        """Fields of an sObject keyed by lower-cased API name; None for an unknown object."""

    def rows(self, sobject: str, *, include_deleted: bool) -> Iterable[Mapping[str, Any]]:
        """Every record of an sObject (deleted ones only when asked, for queryAll)."""

    def get_by_id(self, record_id: str) -> tuple[str, Mapping[str, Any]] | None:
        """Any record by a 15- or 18-character Id: (canonical sObject name, record)."""
