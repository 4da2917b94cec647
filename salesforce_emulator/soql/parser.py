"""SOQL text to a small syntax tree, with a LALR grammar (lark) and a Transformer.

The tree knows nothing of any org: field names are kept as typed, with their position,
so the engine can resolve them against the catalog and point at them in its errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from lark import (
    Lark,
    Token,
    Transformer,
    UnexpectedCharacters,
    UnexpectedInput,
    UnexpectedToken,
)
from lark.exceptions import VisitError

from .errors import MALFORMED_QUERY, SoqlError, located_message

# Keywords are regexes ending in \b, with a priority above NAME, rather than plain
# string literals: lark would otherwise split a field such as ``Notes__c`` into the
# keyword NOT and ``es__c``. The contextual lexer only offers the terminals the parser
# can accept where it stands, so a keyword is never mistaken for a field elsewhere.
#
# Mixing AND and OR without parentheses is a MALFORMED_QUERY in SOQL, so a condition
# is a chain of ANDs or a chain of ORs, never both; a parenthesised condition is a unary.
_GRAMMAR = r"""
    start: query

    query: _SELECT select_list _FROM NAME where_clause? order_clause? limit_clause? offset_clause?

    select_list: _COUNT "(" ")"                    -> count_select
               | field_path ("," field_path)*     -> field_select

    field_path: NAME ("." NAME)*

    where_clause: _WHERE condition

    ?condition: unary
              | unary (_AND unary)+               -> and_chain
              | unary (_OR unary)+                -> or_chain

    ?unary: _NOT unary                            -> negation
          | "(" condition ")"
          | comparison

    ?comparison: field_path OPERATOR value          -> compare
               | field_path _LIKE value             -> like
               | field_path _IN "(" values ")"      -> in_list
               | field_path _NOT _IN "(" values ")" -> not_in_list
               | field_path _IN "(" subquery ")"    -> in_subquery
               | field_path _NOT _IN "(" subquery ")" -> not_in_subquery

    values: value ("," value)*
    value: STRING | NUMBER | DATETIME | DATE | WORD

    subquery: _SELECT field_path _FROM NAME where_clause?

    order_clause: _ORDER _BY order_item ("," order_item)*
    order_item: field_path DIRECTION? (_NULLS NULLS_POSITION)?

    limit_clause: _LIMIT NUMBER
    offset_clause: _OFFSET NUMBER

    _SELECT.2: /select\b/i
    _COUNT.2: /count\b/i
    _FROM.2: /from\b/i
    _WHERE.2: /where\b/i
    _AND.2: /and\b/i
    _OR.2: /or\b/i
    _NOT.2: /not\b/i
    _IN.2: /in\b/i
    _LIKE.2: /like\b/i
    _ORDER.2: /order\b/i
    _BY.2: /by\b/i
    _NULLS.2: /nulls\b/i
    _LIMIT.2: /limit\b/i
    _OFFSET.2: /offset\b/i
    DIRECTION.2: /asc\b/i | /desc\b/i
    NULLS_POSITION.2: /first\b/i | /last\b/i

    OPERATOR: "!=" | "<=" | ">=" | "=" | "<" | ">"
    DATETIME.4: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})/
    DATE.3: /\d{4}-\d{2}-\d{2}/
    NUMBER: /[+-]?\d+(\.\d+)?/
    STRING: /'(?:[^'\\]|\\.)*'/s
    NAME: /[A-Za-z_][A-Za-z0-9_]*/
    // A bare word in a value position: true, false, null, or a date literal.
    WORD: /[A-Za-z_][A-Za-z0-9_]*(:[+-]?\d+)?/

    %ignore /\s+/
"""

_PARSER = Lark(_GRAMMAR, parser="lalr", lexer="contextual", maybe_placeholders=False)


# ---------------------------------------------------------------------------
# Syntax tree
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    """An sObject name as typed, with its position."""

    text: str
    line: int
    column: int


@dataclass(frozen=True)
class FieldPath:
    """``Account.Owner.Email`` as typed: relationship names, then a field name."""

    parts: tuple[str, ...]
    line: int
    column: int

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Literal:
    """A value in a WHERE clause.

    ``kind`` is one of string, number, date, datetime, boolean, null, date_range. For a
    date_range, ``value`` is ``(KEYWORD, n)``: the range depends on the query's ``now``.
    """

    kind: str
    value: Any
    text: str
    line: int
    column: int
    # A string's LIKE pattern as a regex, compiled only when a LIKE uses it (a query
    # may carry hundreds of strings in an IN list and no LIKE at all).
    like_source: str | None = None

    @property
    def like(self) -> re.Pattern[str] | None:
        return None if self.like_source is None else _like_compile(self.like_source)


@lru_cache(maxsize=512)
def _like_compile(source: str) -> re.Pattern[str]:
    return re.compile(source, re.DOTALL)


@dataclass(frozen=True)
class SubQuery:
    """The inner SELECT of a semi-join or anti-join: one field, one object, a filter."""

    field: FieldPath
    sobject: Name
    where: Condition | None


@dataclass(frozen=True)
class Comparison:
    """``field op value``; op is one of = != < <= > >= like in notin."""

    field: FieldPath
    op: str
    value: Literal | tuple[Literal, ...] | SubQuery


@dataclass(frozen=True)
class Logical:
    op: str  # "and" or "or"
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Negation:
    item: Condition


Condition = Comparison | Logical | Negation


@dataclass(frozen=True)
class OrderItem:
    field: FieldPath
    descending: bool
    nulls_first: bool


@dataclass(frozen=True)
class Query:
    is_count: bool
    fields: tuple[FieldPath, ...]
    sobject: Name
    where: Condition | None
    order_by: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None


# ---------------------------------------------------------------------------
# Literals
# ---------------------------------------------------------------------------

# Salesforce's escapes; \uXXXX is handled apart. Every escaped character is literal in
# LIKE, which is what makes \% and \_ match a percent sign and an underscore.
_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
    "%": "%",
    "_": "_",
}

# Relative date literals: those taking ``:n`` and those that must not.
_DATE_KEYWORDS_WITH_N = {"LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO"}
_DATE_KEYWORDS = {
    "TODAY",
    "YESTERDAY",
    "TOMORROW",
    "LAST_90_DAYS",
    "NEXT_90_DAYS",
    "THIS_WEEK",
    "LAST_WEEK",
    "NEXT_WEEK",
    "THIS_MONTH",
    "LAST_MONTH",
    "NEXT_MONTH",
    "THIS_YEAR",
    "LAST_YEAR",
    "NEXT_YEAR",
}


def _position(token: Token) -> tuple[int, int]:
    """Where a token starts (line, column), both from 1.

    lark types them optional because a Token built by hand has no position; every token
    of the contextual lexer has one. A token without one is placed at the start, where an
    error message still makes sense."""
    return token.line or 1, token.column or 1


def _decode_string(token: Token, soql: str) -> Literal:
    """A quoted string token to its value and to its LIKE pattern."""
    raw = token[1:-1]
    line, column = _position(token)
    if "\\" not in raw and raw.isascii():
        # Nothing escaped (the common case): every % and _ is a wildcard.
        pattern = re.escape(raw.lower()).replace("%", ".*").replace("_", ".")
        return Literal("string", raw, str(token), line, column, pattern)
    chars: list[tuple[str, bool]] = []  # (character, was escaped)
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch != "\\":
            chars.append((ch, False))
            i += 1
            continue
        nxt = raw[i + 1]  # the token's regex guarantees a character after a backslash
        code = raw[i + 2 : i + 6]
        if nxt in "uU" and re.fullmatch(r"[0-9A-Fa-f]{4}", code):
            chars.append((chr(int(code, 16)), True))
            i += 6
            continue
        key = nxt.lower() if nxt in "NRTBF" else nxt
        if key not in _ESCAPES:
            message = (
                f"Invalid string literal '{raw}'. "
                f"Illegal character sequence '\\{nxt}' in string literal."
            )
            raise SoqlError(MALFORMED_QUERY, located_message(soql, line, column, message))
        chars.append((_ESCAPES[key], True))
        i += 2
    value = "".join(ch for ch, _ in chars)
    wildcards = {"%": ".*", "_": "."}
    pattern = "".join(
        wildcards[ch] if ch in wildcards and not escaped else re.escape(ch.lower())
        for ch, escaped in chars
    )
    return Literal("string", value, str(token), line, column, pattern)


def _literal(token: Token, soql: str) -> Literal:
    """A value token to a typed literal; unknown bare words are malformed."""
    text = str(token)
    line, column = _position(token)

    def malformed(message: str) -> SoqlError:
        return SoqlError(MALFORMED_QUERY, located_message(soql, line, column, message))

    if token.type == "STRING":
        return _decode_string(token, soql)
    if token.type == "NUMBER":
        return Literal("number", float(text), text, line, column)
    if token.type == "DATE":
        try:
            return Literal("date", date.fromisoformat(text), text, line, column)
        except ValueError:
            raise malformed(f"line {line}:{column - 1} no viable alternative at '{text}'") from None
    if token.type == "DATETIME":
        try:
            return Literal("datetime", datetime.fromisoformat(text), text, line, column)
        except ValueError:
            raise malformed(f"line {line}:{column - 1} no viable alternative at '{text}'") from None
    word, _, n_text = text.partition(":")
    upper = word.upper()
    if not n_text and upper in ("TRUE", "FALSE"):
        return Literal("boolean", upper == "TRUE", text, line, column)
    if not n_text and upper == "NULL":
        return Literal("null", None, text, line, column)
    if not n_text and upper in _DATE_KEYWORDS:
        return Literal("date_range", (upper, None), text, line, column)
    if upper in _DATE_KEYWORDS_WITH_N:
        if not n_text:
            raise malformed(f"Invalid date literal: {text}: missing ':n'")
        return Literal("date_range", (upper, int(n_text)), text, line, column)
    raise malformed(f"unexpected token: {text}")


# ---------------------------------------------------------------------------
# Tree building
# ---------------------------------------------------------------------------


class _ToAst(Transformer[Token, Query]):
    """Turns lark's parse tree into the dataclasses above."""

    def __init__(self, soql: str) -> None:
        super().__init__()
        self._soql = soql

    def start(self, items: list[Query]) -> Query:
        return items[0]

    def query(self, items: list[Any]) -> Query:
        is_count, fields = items[0]
        name: Token = items[1]
        clauses = dict(items[2:])
        return Query(
            is_count=is_count,
            fields=fields,
            sobject=Name(str(name), *_position(name)),
            where=clauses.get("where"),
            order_by=clauses.get("order", ()),
            limit=clauses.get("limit"),
            offset=clauses.get("offset"),
        )

    def count_select(self, _items: list[Any]) -> tuple[bool, tuple[FieldPath, ...]]:
        return True, ()

    def field_select(self, items: list[FieldPath]) -> tuple[bool, tuple[FieldPath, ...]]:
        return False, tuple(items)

    def field_path(self, items: list[Token]) -> FieldPath:
        return FieldPath(tuple(str(t) for t in items), *_position(items[0]))

    def where_clause(self, items: list[Condition]) -> tuple[str, Condition]:
        return "where", items[0]

    def and_chain(self, items: list[Condition]) -> Logical:
        return Logical("and", tuple(items))

    def or_chain(self, items: list[Condition]) -> Logical:
        return Logical("or", tuple(items))

    def negation(self, items: list[Condition]) -> Negation:
        return Negation(items[0])

    def value(self, items: list[Token]) -> Literal:
        return _literal(items[0], self._soql)

    def values(self, items: list[Literal]) -> tuple[Literal, ...]:
        return tuple(items)

    def compare(self, items: list[Any]) -> Comparison:
        return Comparison(items[0], str(items[1]), items[2])

    def like(self, items: list[Any]) -> Comparison:
        return Comparison(items[0], "like", items[1])

    def in_list(self, items: list[Any]) -> Comparison:
        return Comparison(items[0], "in", items[1])

    def not_in_list(self, items: list[Any]) -> Comparison:
        return Comparison(items[0], "notin", items[1])

    def in_subquery(self, items: list[Any]) -> Comparison:
        return Comparison(items[0], "in", items[1])

    def not_in_subquery(self, items: list[Any]) -> Comparison:
        return Comparison(items[0], "notin", items[1])

    def subquery(self, items: list[Any]) -> SubQuery:
        name: Token = items[1]
        where = items[2][1] if len(items) > 2 else None
        return SubQuery(items[0], Name(str(name), *_position(name)), where)

    def order_clause(self, items: list[OrderItem]) -> tuple[str, tuple[OrderItem, ...]]:
        return "order", tuple(items)

    def order_item(self, items: list[Any]) -> OrderItem:
        field: FieldPath = items[0]
        descending = False
        nulls: str | None = None
        for token in items[1:]:
            if token.type == "DIRECTION":
                descending = token.upper() == "DESC"
            else:
                nulls = token.upper()
        # Salesforce's defaults: nulls first when ascending, last when descending.
        nulls_first = nulls == "FIRST" if nulls else not descending
        return OrderItem(field, descending, nulls_first)

    def limit_clause(self, items: list[Token]) -> tuple[str, int]:
        return "limit", self._count(items[0], "LIMIT")

    def offset_clause(self, items: list[Token]) -> tuple[str, int]:
        return "offset", self._count(items[0], "OFFSET")

    def _count(self, token: Token, clause: str) -> int:
        if not re.fullmatch(r"\d+", token):
            message = f"{clause} must be a non-negative integer, found: {token}"
            raise SoqlError(
                MALFORMED_QUERY, located_message(self._soql, *_position(token), message)
            )
        return int(token)


def parse(soql: str) -> Query:
    """Parse one SOQL statement; any grammar error is a MALFORMED_QUERY."""
    try:
        tree = _PARSER.parse(soql)
    except UnexpectedToken as exc:
        token = exc.token
        if token.type == "$END":
            line, column = _end_position(soql)
            message = "unexpected token: <EOF>"
        else:
            line, column = _position(token)
            message = f"unexpected token: {token}"
        raise SoqlError(MALFORMED_QUERY, located_message(soql, line, column, message)) from None
    except UnexpectedCharacters as exc:
        # The lexer always says where it stopped; lark types it optional for other errors.
        char = soql[exc.pos_in_stream or 0]
        message = (
            "unterminated quoted string"
            if char == "'"
            else f"line {exc.line}:{exc.column - 1} no viable alternative at character '{char}'"
        )
        raise SoqlError(
            MALFORMED_QUERY, located_message(soql, exc.line, exc.column, message)
        ) from None
    except UnexpectedInput as exc:  # any other lark complaint, e.g. unexpected end of input
        line, column = _end_position(soql)
        raise SoqlError(
            MALFORMED_QUERY, located_message(soql, line, column, f"unexpected input: {exc}")
        ) from None
    try:
        return _ToAst(soql).transform(tree)
    except VisitError as exc:  # lark wraps what a Transformer raises
        if isinstance(exc.orig_exc, SoqlError):
            raise exc.orig_exc from None
        raise


def _end_position(soql: str) -> tuple[int, int]:
    rows = soql.split("\n")
    return len(rows), len(rows[-1]) + 1
