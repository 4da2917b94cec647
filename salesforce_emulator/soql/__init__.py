"""The emulator's SOQL engine: parse a query, run it against a Catalog, shape the rows.

``execute`` is the whole interface; the server pages the rows it returns.
"""

from __future__ import annotations

from .engine import QueryResult, execute
from .errors import SoqlError

__all__ = ["QueryResult", "SoqlError", "execute"]
