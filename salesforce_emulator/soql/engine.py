"""Runs a parsed SOQL query against a Catalog and shapes the rows as the REST API does."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from ..types import Catalog, FieldInfo
from . import values
from .errors import (
    INVALID_FIELD,
    INVALID_QUERY_FILTER_OPERATOR,
    INVALID_TYPE,
    MALFORMED_QUERY,
    NUMBER_OUTSIDE_VALID_RANGE,
    SoqlError,
    located_message,
)
from .parser import (
    Comparison,
    Condition,
    FieldPath,
    Literal,
    Logical,
    Name,
    Negation,
    OrderItem,
    Query,
    SubQuery,
    parse,
)

Record = Mapping[str, Any]
Predicate = Callable[[Record], bool]

MAX_OFFSET = 2000
# Salesforce follows at most five parent relationships in one field path.
MAX_RELATIONSHIP_DEPTH = 5


@dataclass
class QueryResult:
    """What the query resource needs to answer: the rows, unpaged."""

    sobject: str
    total_size: int
    records: list[dict[str, Any]]
    is_count: bool


@dataclass(frozen=True)
class ResolvedField:
    """A field path checked against the catalog.

    ``hops`` are the reference fields followed (their ``relationship_name`` is the key in
    the output); ``field`` is the last field, as described on the first object that has
    it (a polymorphic hop may lead to several objects).
    """

    path: FieldPath
    hops: tuple[FieldInfo, ...]
    field: FieldInfo
    # ``Who.Type``: the sObject type of the record a polymorphic relationship points at.
    is_type: bool = False

    @property
    def key(self) -> tuple[str, ...]:
        return (*(h.name.lower() for h in self.hops), self.field.name.lower())


@dataclass
class _Run:
    """The state of one execution: the query text for errors, and a parent-record cache."""

    soql: str
    catalog: Catalog
    api_version: str
    today: date
    parents: dict[str, tuple[str, Record] | None] = field(default_factory=dict)

    # -- errors --------------------------------------------------------------

    def error(self, code: str, line: int, column: int, message: str) -> SoqlError:
        return SoqlError(code, located_message(self.soql, line, column, message))

    # -- resolving names -----------------------------------------------------

    def resolve_object(self, name: Name) -> tuple[str, Mapping[str, FieldInfo]]:
        canonical = self.catalog.object_name(name.text)
        fields = self.catalog.object_fields(canonical) if canonical else None
        if canonical is None or fields is None:
            raise self.error(
                INVALID_TYPE,
                name.line,
                name.column,
                f"sObject type '{name.text}' is not supported. If you are attempting to use "
                "a custom object, be sure to append the '__c' after the entity name. Please "
                "reference your WSDL or the describe call for the appropriate names.",
            )
        return canonical, fields

    def resolve_field(self, sobject: str, path: FieldPath) -> ResolvedField:
        """Follow ``Rel.Rel.Field`` through relationship names, case-insensitively."""
        parts = path.parts
        # SOQL lets a path start with the FROM object's own name: Contact.Email.
        if (
            len(parts) > 1
            and parts[0].lower() == sobject.lower()
            and self._relationship(sobject, parts[0]) is None
        ):
            parts = parts[1:]
        if len(parts) - 1 > MAX_RELATIONSHIP_DEPTH:
            raise self.error(
                MALFORMED_QUERY,
                path.line,
                path.column,
                f"A field path can follow at most {MAX_RELATIONSHIP_DEPTH} parent "
                f"relationships: {path.text}",
            )
        objects: tuple[str, ...] = (sobject,)
        hops: list[FieldInfo] = []
        for name in parts[:-1]:
            hop = None
            for obj in objects:
                hop = self._relationship(obj, name)
                if hop is not None:
                    break
            if hop is None:
                raise self.error(
                    INVALID_FIELD,
                    path.line,
                    path.column,
                    f"Didn't understand relationship '{name}' in field path. If you are "
                    "attempting to use a custom relationship, be sure to append the '__r' "
                    "after the custom relationship name. Please reference your WSDL or the "
                    "describe call for the appropriate names.",
                )
            hops.append(hop)
            objects = tuple(self.catalog.object_name(obj) or obj for obj in hop.reference_to)
        last = parts[-1]
        for obj in objects:
            info = (self.catalog.object_fields(obj) or {}).get(last.lower())
            if info is not None:
                return ResolvedField(path, tuple(hops), info)
        if len(objects) > 1 and last.lower() == "type":
            return ResolvedField(path, tuple(hops), FieldInfo("Type", "string"), is_type=True)
        # A polymorphic relationship is described as the "Name" entity.
        entity = objects[0] if len(objects) == 1 else "Name"
        raise self.error(
            INVALID_FIELD,
            path.line,
            path.column,
            f"No such column '{last}' on entity '{entity}'. If you are attempting to use a "
            "custom field, be sure to append the '__c' after the custom field name. Please "
            "reference your WSDL or the describe call for the appropriate names.",
        )

    def _relationship(self, sobject: str, name: str) -> FieldInfo | None:
        for info in (self.catalog.object_fields(sobject) or {}).values():
            if (
                info.relationship_name
                and info.relationship_name.lower() == name.lower()
                and info.reference_to
            ):
                return info
        return None

    # -- reading values ------------------------------------------------------

    def parent(self, record_id: Any) -> tuple[str, Record] | None:
        if not record_id:
            return None
        key = str(record_id)
        if key not in self.parents:
            self.parents[key] = self.catalog.get_by_id(key)
        return self.parents[key]

    def value(self, record: Record, resolved: ResolvedField) -> Any:
        current, current_type = record, ""
        for hop in resolved.hops:
            found = self.parent(current.get(hop.name))
            if found is None:
                return None
            current_type, current = found
        return current_type if resolved.is_type else current.get(resolved.field.name)

    # -- WHERE ---------------------------------------------------------------

    def predicate(self, sobject: str, condition: Condition) -> Predicate:
        if isinstance(condition, Logical):
            joined = _semi_join_in(condition) if condition.op == "or" else None
            if joined is not None:
                raise self.error(
                    MALFORMED_QUERY,
                    joined.field.line,
                    joined.field.column,
                    "Semi join sub-selects are not allowed with the 'OR' operator",
                )
            parts = [self.predicate(sobject, item) for item in condition.items]
            if condition.op == "and":
                return lambda r: all(p(r) for p in parts)
            return lambda r: any(p(r) for p in parts)
        if isinstance(condition, Negation):
            inner = self.predicate(sobject, condition.item)
            return lambda r: not inner(r)
        return self.comparison(sobject, condition)

    def comparison(self, sobject: str, cmp: Comparison) -> Predicate:
        resolved = self.resolve_field(sobject, cmp.field)
        info = resolved.field
        path = cmp.field
        if not info.filterable:
            raise self.error(
                INVALID_FIELD,
                path.line,
                path.column,
                f"field '{info.name}' can not be filtered in a query call",
            )
        fam = values.family(info.type)
        if isinstance(cmp.value, SubQuery):
            return self.semi_join(sobject, resolved, cmp.op, cmp.value)

        if cmp.op == "like" and fam == values.ID:
            raise self.error(
                INVALID_QUERY_FILTER_OPERATOR,
                path.line,
                path.column,
                "invalid operator on id field",
            )
        if cmp.op in ("<", "<=", ">", ">=") and fam == values.BOOLEAN:
            raise self.error(
                INVALID_QUERY_FILTER_OPERATOR,
                path.line,
                path.column,
                "invalid operator on boolean field",
            )

        literals = cmp.value if isinstance(cmp.value, tuple) else (cmp.value,)
        targets = [self.literal_value(info, fam, lit) for lit in literals]

        def actual(record: Record) -> Any:
            return values.normalize(fam, self.value(record, resolved))

        if cmp.op == "like":
            literal = literals[0]
            pattern = literal.like
            if pattern is None:  # LIKE null matches nothing
                return lambda r: False
            return lambda r: (v := actual(r)) is not None and bool(pattern.fullmatch(v))
        if cmp.op in ("in", "notin"):
            pairs = list(zip(literals, targets, strict=True))
            # A long IN list of strings (addresses, Ids): one set lookup per record
            # instead of a comparison per value; a string equals exactly the strings
            # of the set. Anything else compares value by value.
            strings = {t for lit, t in pairs if _plain_string(lit, t)}
            others = [(lit, t) for lit, t in pairs if not _plain_string(lit, t)]

            def contained(record: Record) -> bool:
                v = actual(record)
                if isinstance(v, str) and v in strings:
                    return True
                if not others and (v is None or isinstance(v, str)):
                    return False
                return any(_matches("=", v, lit, target) for lit, target in pairs)

            if cmp.op == "in":
                return contained
            return lambda r: not contained(r)
        op, literal, target = cmp.op, literals[0], targets[0]
        return lambda r: _matches(op, actual(r), literal, target)

    def literal_value(self, info: FieldInfo, fam: str, literal: Literal) -> Any:
        """Check a literal fits the field's type, and put it in the field's normal form."""
        if literal.kind not in values.ACCEPTED_LITERALS[fam]:
            quoted = "be" if fam in (values.STRING, values.ID) else "not be"
            raise self.error(
                INVALID_FIELD,
                literal.line,
                literal.column,
                f"value of filter criterion for field '{info.name}' must be of type "
                f"{values.type_in_messages(info.type)} and should {quoted} enclosed in quotes",
            )
        if literal.kind == "null":
            return None
        if literal.kind == "date_range":
            keyword, n = literal.value
            return values.range_for(fam, values.date_range(keyword, n, self.today))
        if fam == values.ID:
            if not values.is_valid_id(literal.value):
                raise self.error(
                    INVALID_QUERY_FILTER_OPERATOR,
                    literal.line,
                    literal.column,
                    f"invalid ID field: {literal.value}",
                )
            return literal.value[:15]
        return values.normalize(fam, literal.value)

    def semi_join(self, sobject: str, outer: ResolvedField, op: str, sub: SubQuery) -> Predicate:
        """``Id IN (SELECT ContactId FROM ...)``: both sides must be ids or references."""
        if values.family(outer.field.type) != values.ID:
            raise self.error(
                INVALID_FIELD,
                outer.path.line,
                outer.path.column,
                "Invalid field for semi/anti join: the field must be an Id or a reference",
            )
        inner_object, _ = self.resolve_object(sub.sobject)
        inner = self.resolve_field(inner_object, sub.field)
        if values.family(inner.field.type) != values.ID:
            raise self.error(
                INVALID_FIELD,
                sub.field.line,
                sub.field.column,
                "Invalid field for semi/anti join: the selected field must be an Id or a reference",
            )
        nested = _semi_join_in(sub.where) if sub.where else None
        if nested is not None:
            raise self.error(
                MALFORMED_QUERY,
                nested.field.line,
                nested.field.column,
                "Nesting of semi join sub-selects is not supported",
            )
        keep = self.predicate(inner_object, sub.where) if sub.where else None
        ids: set[str] = set()
        for row in self.rows(inner_object, include_deleted=False):
            if keep is None or keep(row):
                found = self.value(row, inner)
                if found:
                    ids.add(str(found)[:15])

        def member(record: Record) -> bool:
            v = self.value(record, outer)
            return v is not None and str(v)[:15] in ids

        if op == "in":
            return member
        return lambda r: not member(r)

    # -- rows and output -----------------------------------------------------

    def rows(self, sobject: str, *, include_deleted: bool) -> list[Record]:
        return [
            row
            for row in self.catalog.rows(sobject, include_deleted=include_deleted)
            if include_deleted or not row.get("IsDeleted")
        ]

    def attributes(self, sobject: str, record: Record) -> dict[str, str]:
        return {
            "type": sobject,
            "url": f"/services/data/v{self.api_version}/sobjects/{sobject}/{record.get('Id')}",
        }

    def shape(self, sobject: str, record: Record, fields: list[ResolvedField]) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": self.attributes(sobject, record)}
        for resolved in fields:
            self._put(out, sobject, record, resolved, 0)
        return out

    def _put(
        self, out: dict[str, Any], sobject: str, record: Record, resolved: ResolvedField, depth: int
    ) -> None:
        """Write one selected path into a nested record; a null parent is ``None``."""
        if depth == len(resolved.hops):
            info = resolved.field
            out[info.name] = sobject if resolved.is_type else record.get(info.name)
            return
        hop = resolved.hops[depth]
        key = hop.relationship_name or hop.name
        found = self.parent(record.get(hop.name))
        if found is None:
            out[key] = None
            return
        parent_type, parent = found
        nested = out.get(key)
        if nested is None:
            nested = out[key] = {"attributes": self.attributes(parent_type, parent)}
        self._put(nested, parent_type, parent, resolved, depth + 1)

    def order(self, sobject: str, rows: list[Record], items: tuple[OrderItem, ...]) -> list[Record]:
        """Stable sorts from the last key to the first, keeping nulls where asked."""
        for item in reversed(items):
            resolved = self.resolve_field(sobject, item.field)
            if not resolved.field.sortable:
                raise self.error(
                    INVALID_FIELD,
                    item.field.line,
                    item.field.column,
                    f"field '{resolved.field.name}' can not be sorted in a query call",
                )
            fam = values.family(resolved.field.type)
            keyed = [(values.normalize(fam, self.value(row, resolved)), row) for row in rows]
            nulls = [row for key, row in keyed if key is None]
            present = [(key, row) for key, row in keyed if key is not None]
            present.sort(key=lambda pair: pair[0], reverse=item.descending)
            ordered = [row for _, row in present]
            rows = nulls + ordered if item.nulls_first else ordered + nulls
        return rows


def _semi_join_in(condition: Condition) -> Comparison | None:
    """The first semi-join or anti-join anywhere in a condition, if any."""
    if isinstance(condition, Logical):
        for item in condition.items:
            found = _semi_join_in(item)
            if found is not None:
                return found
        return None
    if isinstance(condition, Negation):
        return _semi_join_in(condition.item)
    return condition if isinstance(condition.value, SubQuery) else None


def _plain_string(literal: Literal, target: Any) -> bool:
    """A string literal, which `=` compares as plain equality (see `_matches`)."""
    return literal.kind == "string" and isinstance(target, str)


def _matches(op: str, actual: Any, literal: Literal, target: Any) -> bool:
    """One comparison, with SOQL's nulls: ``!=`` holds against a null value."""
    if literal.kind == "null":
        if op == "=":
            return actual is None
        if op == "!=":
            return actual is not None
        return False
    if literal.kind == "date_range":
        start, end = target
        if actual is None:
            return op == "!="
        inside = bool(start <= actual < end)
        return {
            "=": inside,
            "!=": not inside,
            "<": bool(actual < start),
            "<=": bool(actual < end),
            ">": bool(actual >= end),
            ">=": bool(actual >= start),
        }[op]
    if actual is None:
        return op == "!="
    if op == "=":
        return bool(actual == target)
    if op == "!=":
        return bool(actual != target)
    if op == "<":
        return bool(actual < target)
    if op == "<=":
        return bool(actual <= target)
    if op == ">":
        return bool(actual > target)
    return bool(actual >= target)


def execute(
    soql: str,
    catalog: Catalog,
    *,
    api_version: str,
    include_deleted: bool = False,
    now: datetime | None = None,
) -> QueryResult:
    """Run one SOQL query and return every matching row, shaped for the REST API.

    1. Parse the text into a syntax tree; grammar errors are MALFORMED_QUERY.
    2. Resolve the FROM object (INVALID_TYPE) and every selected path (INVALID_FIELD);
       reject a field selected twice.
    3. Compile WHERE into a predicate, checking each literal against its field's type
       and turning relative dates into ranges against ``now`` (UTC).
    4. Filter the object's rows (deleted ones only for queryAll), then ORDER BY,
       OFFSET and LIMIT.
    5. Shape each row: ``attributes``, then the selected fields in SELECT order under
       their canonical names, parents nested under their relationship names.
    """
    query: Query = parse(soql)
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    run = _Run(soql, catalog, api_version, moment.astimezone(UTC).date())

    # 2. Names.
    sobject, _ = run.resolve_object(query.sobject)
    selected: list[ResolvedField] = []
    seen: set[tuple[str, ...]] = set()
    for path in query.fields:
        resolved = run.resolve_field(sobject, path)
        if resolved.key in seen:
            raise SoqlError(MALFORMED_QUERY, f"duplicate field selected: {path.text}")
        seen.add(resolved.key)
        selected.append(resolved)
    if query.offset is not None and query.offset > MAX_OFFSET:
        raise SoqlError(NUMBER_OUTSIDE_VALID_RANGE, f"Maximum SOQL offset allowed is {MAX_OFFSET}")

    # 3. and 4. Filter, order, slice.
    keep = run.predicate(sobject, query.where) if query.where else None
    rows = [
        row
        for row in run.rows(sobject, include_deleted=include_deleted)
        if keep is None or keep(row)
    ]
    if query.order_by:
        rows = run.order(sobject, rows, query.order_by)
    if query.offset:
        rows = rows[query.offset :]
    if query.limit is not None:
        rows = rows[: query.limit]

    if query.is_count:
        return QueryResult(sobject=sobject, total_size=len(rows), records=[], is_count=True)

    # 5. Shape.
    records = [run.shape(sobject, row, selected) for row in rows]
    return QueryResult(sobject=sobject, total_size=len(records), records=records, is_count=False)
