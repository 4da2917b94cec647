"""Who took part in a meeting or an activity, as the partner API gives them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PersonInput:
    email: str = ""
    name: str = ""
    phone: str = ""
