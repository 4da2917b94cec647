"""Salesforce record ids: 15 characters case-sensitive, 18 with a case-insensitive suffix."""

from __future__ import annotations

import itertools
import re
import threading
from functools import lru_cache

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_RE = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-5]{3})?$")


@lru_cache(maxsize=65536)  # pure; the same ids come back in every request that names them
def checksum(id15: str) -> str:
    """The three-character suffix that makes a 15-character id case-insensitive."""
    suffix = ""
    for chunk in range(3):
        bits = 0
        for pos, char in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << pos
        suffix += _SUFFIX_ALPHABET[bits]
    return suffix


def to18(record_id: str) -> str | None:
    """The 18-character form of a 15- or 18-character id; None when it is not an id."""
    if not isinstance(record_id, str) or not _ID_RE.match(record_id):
        return None
    id15 = record_id[:15]
    full = id15 + checksum(id15)
    if len(record_id) == 18 and record_id[15:].upper() != full[15:]:
        return None
    return full


class IdFactory:
    """Hands out ids unique across the whole server (all orgs), so ids never collide
    when records are moved between the data file and memory."""

    def __init__(self, start: int = 1) -> None:
        self._counter = itertools.count(start)
        self._lock = threading.Lock()
        self.last = start - 1

    def new(self, prefix: str) -> str:
        with self._lock:
            n = next(self._counter)
            self.last = n
        digits = ""
        while n:
            n, rem = divmod(n, 62)
            digits = _BASE62[rem] + digits
        # Real ids carry a pod/instance marker after the key prefix; "5g" mimics one.
        id15 = prefix + "5g" + digits.rjust(10, "0")
        return id15 + checksum(id15)
