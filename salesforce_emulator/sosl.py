"""SOSL, as the REST ``search`` resource runs it: ``GET /services/data/vXX.X/search/?q=``.

What is understood (SOQL and SOSL Reference, "SOSL Syntax" and "FIND {SearchQuery}"):

``FIND {terms} [IN ALL|NAME|EMAIL|PHONE FIELDS]
[RETURNING Object [(fields [WHERE ...] [ORDER BY ...] [LIMIT n] [OFFSET n])], ...]
[LIMIT n]``

- The REST API takes the search expression between braces only (REST API Developer Guide,
  "Search": ``/search/?q=FIND+%7BAcme%7D``); without braces, or with an empty or
  unbalanced expression, Salesforce answers 400 MALFORMED_SEARCH.
- Terms are words or quoted phrases joined by ``OR``, ``AND``, ``AND NOT`` and
  parentheses; words side by side without an operator must all match (AND). ``*`` and
  ``?`` are wildcards (any run of characters; one character). A search term must be at
  least two characters long ("FIND {SearchQuery}": "search terms must be longer than one
  character").
- Each object of RETURNING is searched in the fields of the scope (ALL FIELDS when no
  ``IN`` clause), its WHERE/ORDER BY/LIMIT/OFFSET applied as SOQL applies them; the fields
  listed are returned, or the Id alone when there is no list. Without RETURNING the
  searchable standard objects are searched, Id alone. The answer is
  ``{"searchRecords": [{"attributes": {"type", "url"}, "Id", ...}]}`` (REST API Developer
  Guide, "Search for a String", example response body), at most 2,000 records in all
  (SOQL and SOSL Reference, "SOSL Limits") or the statement's own LIMIT.

Matching. Text is cut into words (letters and digits); a term matches a field when its
words appear there in the same order, case-insensitively. Phone fields are matched on
their digits only, formatting ignored: "(415) 555-0100", "415.555.0100" and "4155550100"
are the same number, and an 11-digit number starting with 1 (a North American number with
its country code) is the same as its 10-digit national form, as Salesforce stores and
formats such numbers (Salesforce Knowledge Article 000385963, "Standard 'Phone' field
length and formatting": an 11-digit number beginning with 1 is saved as the 10-digit
number). So "+14155550100", "14155550100" and "415-555-0100" all find a stored
"(415) 555-0100". A phone term with ``*`` matches the numbers whose digits start with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ApiError
from .soql import SoqlError, execute
from .store import Org

MAX_RESULTS = 2000
_SCOPES = ("ALL", "NAME", "EMAIL", "PHONE", "SIDEBAR")
# The objects searched when a statement has no RETURNING clause.
_DEFAULT_OBJECTS = ("Account", "Contact", "Lead", "Opportunity")
_NAME_FIELDS = {"Name", "FirstName", "LastName"}
_TEXT_TYPES = frozenset({"string", "email", "phone", "url", "textarea", "combobox"})
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CLAUSE = re.compile(r"\b(WHERE|ORDER\s+BY|LIMIT|OFFSET)\b", re.IGNORECASE)


def malformed(message: str) -> ApiError:
    return ApiError(400, "MALFORMED_SEARCH", message)


# ----- The search expression ------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    text: str
    phrase: bool


@dataclass(frozen=True)
class Op:
    kind: str  # "AND", "OR", "NOT" (AND NOT)
    left: Node
    right: Node


Node = Term | Op


def _tokens(expression: str) -> list[tuple[str, str]]:
    """(kind, text) pairs: "term", "phrase", "(", ")", "OR", "AND", "ANDNOT"."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(expression)
    while i < n:
        char = expression[i]
        if char.isspace():
            i += 1
            continue
        if char in "()":
            out.append((char, char))
            i += 1
            continue
        if char == '"':
            j = i + 1
            buf = []
            while j < n and expression[j] != '"':
                if expression[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(expression[j])
                j += 1
            if j >= n:
                raise malformed("Unbalanced quotes in the search expression")
            out.append(("phrase", "".join(buf)))
            i = j + 1
            continue
        j = i
        buf = []
        while j < n and not expression[j].isspace() and expression[j] not in '()"':
            if expression[j] == "\\" and j + 1 < n:
                j += 1
            buf.append(expression[j])
            j += 1
        word = "".join(buf)
        upper = word.upper()
        if upper == "OR":
            out.append(("OR", word))
        elif upper == "AND":
            out.append(("AND", word))
        elif upper == "NOT" and out and out[-1][0] == "AND":
            out[-1] = ("ANDNOT", "AND NOT")
        else:
            out.append(("term", word))
        i = j
    return out


class _ExpressionParser:
    """OR binds loosest, then AND / AND NOT; words side by side are ANDed."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def parse(self) -> Node:
        node = self.or_expr()
        if self.pos != len(self.tokens):
            raise malformed(
                f"Unexpected token in the search expression: {self.tokens[self.pos][1]}"
            )
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.peek() == "OR":
            self.pos += 1
            node = Op("OR", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.atom()
        while True:
            kind = self.peek()
            if kind in ("AND", "ANDNOT"):
                self.pos += 1
                node = Op("NOT" if kind == "ANDNOT" else "AND", node, self.atom())
            elif kind in ("term", "phrase", "("):
                node = Op("AND", node, self.atom())
            else:
                return node

    def atom(self) -> Node:
        kind = self.peek()
        if kind is None:
            raise malformed("Incomplete search expression: a term is missing after an operator")
        text = self.tokens[self.pos][1]
        self.pos += 1
        if kind == "(":
            node = self.or_expr()
            if self.peek() != ")":
                raise malformed("Unbalanced parentheses in the search expression")
            self.pos += 1
            return node
        if kind in ("term", "phrase"):
            if len(text.replace("*", "").replace("?", "").strip()) < 2:
                raise malformed(f"search term must be longer than one character: {text}")
            return Term(text, kind == "phrase")
        raise malformed(f"Unexpected token in the search expression: {text}")


def parse_expression(expression: str) -> Node:
    tokens = _tokens(expression)
    if not tokens:
        raise malformed("No search term found. The search term must be enclosed in braces.")
    return _ExpressionParser(tokens).parse()


# ----- Matching -----------------------------------------------------------------------


def phone_digits(text: str) -> str:
    """A phone number's digits, an 11-digit North American number reduced to its national
    10 digits (the rule in this module's docstring)."""
    digits = re.sub(r"\D", "", text)
    if len(digits) == 11 and digits.startswith("1"):
        return digits[1:]
    return digits


def _word_pattern(word: str) -> re.Pattern[str]:
    body = "".join(
        r"\w*" if c == "*" else r"\w" if c == "?" else re.escape(c) for c in word.lower()
    )
    return re.compile(f"^{body}$")


def _text_matcher(term: Term) -> Callable[[str], bool]:
    # Words of the term, each keeping the wildcards written after it.
    words = re.findall(r"[^\W_]+|[*?]+", term.text)
    merged: list[str] = []
    for w in words:
        if w[0] in "*?" and merged:
            merged[-1] += w
        else:
            merged.append(w)
    patterns = [_word_pattern(w) for w in merged if w.strip("*?")]

    def match(value: str) -> bool:
        if not patterns:
            return False
        have = [w.lower() for w in _WORD.findall(value)]
        size = len(patterns)
        for start in range(len(have) - size + 1):
            if all(p.match(have[start + k]) for k, p in enumerate(patterns)):
                return True
        return False

    return match


def _phone_matcher(term: Term) -> Callable[[str], bool]:
    prefix = term.text.rstrip().endswith("*")
    wanted = phone_digits(term.text)

    def match(value: str) -> bool:
        if not wanted:
            return False
        have = phone_digits(value)
        if prefix:
            return have.startswith(wanted) or re.sub(r"\D", "", value).startswith(wanted)
        return have == wanted

    return match


def _evaluate(node: Node, row: Mapping[str, Any], fields: list[tuple[str, bool]]) -> bool:
    if isinstance(node, Term):
        text = _text_matcher(node)
        phone = _phone_matcher(node)
        for name, is_phone in fields:
            value = row.get(name)
            if value is None:
                continue
            if (phone if is_phone else text)(str(value)):
                return True
        return False
    left = _evaluate(node.left, row, fields)
    if node.kind == "OR":
        return left or _evaluate(node.right, row, fields)
    if node.kind == "AND":
        return left and _evaluate(node.right, row, fields)
    return left and not _evaluate(node.right, row, fields)


# ----- The statement --------------------------------------------------------------------


@dataclass
class Returning:
    sobject: str
    fields: list[str]
    where: str
    order_by: str
    limit: int | None
    offset: int | None


@dataclass
class Statement:
    expression: Node
    scope: str
    returning: list[Returning] | None
    limit: int | None


def _split_top(text: str, separator: str = ",") -> list[str]:
    parts: list[str] = []
    depth = 0
    quote = False
    current: list[str] = []
    for i, char in enumerate(text):
        if char == "'" and (i == 0 or text[i - 1] != "\\"):
            quote = not quote
        if not quote:
            if char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if depth < 0:
                    raise malformed("Unbalanced parentheses in RETURNING")
            elif char == separator and depth == 0:
                parts.append("".join(current))
                current = []
                continue
        current.append(char)
    if depth != 0 or quote:
        raise malformed("Unbalanced parentheses or quotes in RETURNING")
    parts.append("".join(current))
    return parts


def _int(text: str, what: str) -> int:
    if not text.strip().isdigit():
        raise malformed(f"{what} must be a non-negative integer: {text.strip()}")
    return int(text.strip())


def _returning_item(text: str) -> Returning:
    text = text.strip()
    match = re.fullmatch(r"([A-Za-z][\w]*)\s*(?:\((.*)\))?", text, re.DOTALL)
    if not match:
        raise malformed(f"Malformed RETURNING object: {text}")
    sobject, inner = match.group(1), (match.group(2) or "").strip()
    if match.group(2) is not None and not inner:
        raise malformed(f"No fields listed for {sobject} in RETURNING")
    clauses: dict[str, str] = {}
    positions = [m for m in _CLAUSE.finditer(inner) if not _in_quotes(inner, m.start())]
    head = inner[: positions[0].start()] if positions else inner
    for index, m in enumerate(positions):
        end = positions[index + 1].start() if index + 1 < len(positions) else len(inner)
        key = " ".join(m.group(1).upper().split())
        if key in clauses:
            raise malformed(f"Duplicate {key} for {sobject} in RETURNING")
        clauses[key] = inner[m.end() : end].strip()
        if not clauses[key]:
            raise malformed(f"unexpected token: ')' after {key} for {sobject} in RETURNING")
    fields = [f.strip() for f in head.split(",")] if head.strip() else []
    if any(not f for f in fields):
        raise malformed(f"Malformed field list for {sobject} in RETURNING")
    if (clauses or match.group(2) is not None) and not fields:
        raise malformed(f"No fields listed for {sobject} in RETURNING")
    return Returning(
        sobject,
        fields,
        clauses.get("WHERE", ""),
        clauses.get("ORDER BY", ""),
        _int(clauses["LIMIT"], "LIMIT") if "LIMIT" in clauses else None,
        _int(clauses["OFFSET"], "OFFSET") if "OFFSET" in clauses else None,
    )


def _in_quotes(text: str, position: int) -> bool:
    count = 0
    for i in range(position):
        if text[i] == "'" and (i == 0 or text[i - 1] != "\\"):
            count += 1
    return count % 2 == 1


def _search_expression(sosl: str) -> tuple[str, str]:
    """(the expression between the braces, the rest of the statement)."""
    head = re.match(r"\s*FIND\s*", sosl, re.IGNORECASE)
    if head is None:
        raise malformed("unexpected token: a SOSL statement starts with FIND")
    i = head.end()
    if i >= len(sosl) or sosl[i] != "{":
        raise malformed("No search term found. The search term must be enclosed in braces.")
    j = i + 1
    while j < len(sosl):
        if sosl[j] == "\\":
            j += 2
            continue
        if sosl[j] == "}":
            return sosl[i + 1 : j], sosl[j + 1 :]
        j += 1
    raise malformed("No search term found. The search term must be enclosed in braces.")


def parse(sosl: str) -> Statement:
    expression_text, rest = _search_expression(sosl)
    expression = parse_expression(expression_text)
    rest = rest.strip()
    scope = "ALL"
    match = re.match(r"IN\s+(\w+)\s+FIELDS\b", rest, re.IGNORECASE)
    if match:
        scope = match.group(1).upper()
        if scope not in _SCOPES:
            raise malformed(f"unexpected token: {match.group(1)}")
        rest = rest[match.end() :].strip()
    returning: list[Returning] | None = None
    limit: int | None = None
    match = re.match(r"RETURNING\b", rest, re.IGNORECASE)
    if match:
        body = rest[match.end() :]
        tail = re.search(r"\s+LIMIT\s+(\S+)\s*$", body, re.IGNORECASE)
        if tail and not _inside_parens(body, tail.start()):
            limit = _int(tail.group(1), "LIMIT")
            body = body[: tail.start()]
        if not body.strip():
            raise malformed("unexpected end of statement: RETURNING needs an object")
        returning = [_returning_item(item) for item in _split_top(body)]
        rest = ""
    match = re.match(r"LIMIT\s+(\S+)\s*$", rest, re.IGNORECASE)
    if match:
        limit = _int(match.group(1), "LIMIT")
        rest = ""
    if rest:
        raise malformed(f"unexpected token: {rest.split()[0]}")
    return Statement(expression, scope, returning, limit)


def _inside_parens(text: str, position: int) -> bool:
    return text[:position].count("(") != text[:position].count(")")


# ----- Running it -----------------------------------------------------------------------


def _searched_fields(org: Org, sobject: str, scope: str) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for f in org.objects[sobject].fields.values():
        if f.type not in _TEXT_TYPES:
            continue
        is_phone = f.type == "phone"
        if scope == "PHONE" and not is_phone:
            continue
        if scope == "EMAIL" and f.type != "email":
            continue
        if scope == "NAME" and f.name not in _NAME_FIELDS:
            continue
        out.append((f.name, is_phone))
    return out


def search(org: Org, sosl: str, api_version: str) -> list[dict[str, Any]]:
    """The ``searchRecords`` of a SOSL statement."""
    statement = parse(sosl)
    items = statement.returning or [
        Returning(name, [], "", "", None, None) for name in _DEFAULT_OBJECTS
    ]
    overall = min(statement.limit if statement.limit is not None else MAX_RESULTS, MAX_RESULTS)
    out: list[dict[str, Any]] = []
    for item in items:
        name = org.object_name(item.sobject)
        if name is None:
            raise ApiError(400, "INVALID_TYPE", f"sObject type '{item.sobject}' is not supported.")
        fields = _searched_fields(org, name, statement.scope)
        found = {
            row["Id"]
            for row in org.live(name)
            if fields and _evaluate(statement.expression, row, fields)
        }
        # The query runs even when nothing matched, so a bad field or filter is refused
        # whatever the data.
        wanted = item.fields or ["Id"]
        has_id = any(f.lower() == "id" for f in wanted)
        select = wanted if has_id else ["Id", *wanted]
        # The RETURNING clause is SOQL run by the emulator's own engine against its store.
        soql = f"SELECT {', '.join(select)} FROM {name}"  # noqa: S608
        if item.where:
            soql += f" WHERE {item.where}"
        if item.order_by:
            soql += f" ORDER BY {item.order_by}"
        try:
            result = execute(soql, org, api_version=api_version)
        except SoqlError as error:
            code = "MALFORMED_SEARCH" if error.error_code == "MALFORMED_QUERY" else error.error_code
            raise ApiError(400, code, error.message) from None
        records = [r for r in result.records if r.get("Id") in found]
        if item.offset:
            records = records[item.offset :]
        if item.limit is not None:
            records = records[: item.limit]
        for record in records:
            if not has_id:
                record.pop("Id", None)
            out.append(record)
    return out[:overall]
