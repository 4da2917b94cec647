"""Settling records in doubt: a create whose answer never came (sent), or a delete
whose answer never came (deleting). A job settles every such record of its objects
before it decides anything else, and stores what it found at once.

Steps (`rows_settle`):
1. Refuse to run inside a transaction: what is found must be committed as soon as it
   is known, whatever happens to the rest of the run.
2. Records being deleted: ask which of their Ids still exist; those went back to
   confirmed (the plan decides again), the rest are deleted.
3. Records sent: per object, the records the same Salesforce user created since just
   before the send, narrowed by the first identifying field; a candidate is taken only
   when every identifying field and the content hash match and no other mapping owns
   it. Notes' contents are fetched one by one, only for candidates whose title matched.
4. Links (a note's link, an Event's relations, an Opportunity's contact roles) are found
   through the records they hang on, once those are known.
5. Each row is confirmed with the Id found, or planned again when nothing was found.
Costs nothing when no record is in doubt; after a crash, a round of queries or two.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from integrations.models import SyncMapping
from integrations.salesforce.client import SalesforceClient, format_soql
from integrations.salesforce.errors import SalesforceError
from integrations.salesforce.lookups import queries_run
from integrations.salesforce.soql import in_list_queries
from integrations.sync.identity import (
    HASHED_FIELD,
    LINK_PARENT_FIELD,
    MATCH_FIELDS,
    REF_PREFIX,
    RecordIdentity,
    content_hash,
    row_matches,
    slot_key,
)
from integrations.sync.mappings import (
    as_read,
    mapping_confirm,
    mapping_deleted,
    mapping_replan,
)

logger = logging.getLogger(__name__)

MState = SyncMapping.State
# Clocks of the portal and Salesforce may differ a little, and `sent_at` may be when the
# answer was given up on rather than when the batch began sending.
CLOCK_SKEW = timedelta(minutes=15)


class RecoveryInTransaction(RuntimeError):
    """Recovery was called inside a transaction, where what it finds could be lost."""


def rows_settle(client: SalesforceClient, rows: Sequence[SyncMapping]) -> dict[str, int]:
    """Settle these rows (see the module's steps); returns counts by outcome."""
    if not rows:
        return {}
    if transaction.get_connection().in_atomic_block:
        raise RecoveryInTransaction("records in doubt are settled outside any transaction")
    counts: dict[str, int] = defaultdict(int)
    deleting = [r for r in rows if r.state == MState.DELETING]
    sent = [r for r in rows if r.state == MState.SENT]
    _deleting_settle(client, deleting, counts)
    found = _sent_find(client, sent)
    for row in sent:
        identity = RecordIdentity.from_json(row.identity)
        record_id = found.ids.get(key_of(row))
        if record_id:
            mapping_confirm(
                row,
                salesforce_id=record_id,
                version=identity.version,
                parent=_parent(identity, found),
                guard=as_read(row),
            )
            counts["adopted"] += 1
        else:
            mapping_replan(
                row, why="not found in Salesforce after an interrupted send", guard=as_read(row)
            )
            counts["not_found"] += 1
    logger.info("settled %s records in doubt: %s", len(rows), dict(counts))
    return dict(counts)


def key_of(row: SyncMapping) -> str:
    return slot_key(row.content_type_id, row.object_id, row.purpose)


def _parent(identity: RecordIdentity, found: Found) -> tuple[str, str, str]:
    sobject, parent_id, name = identity.parent
    if parent_id.startswith(REF_PREFIX):
        parent_id = found.id_of(parent_id[len(REF_PREFIX) :])
    return sobject, parent_id, name


@dataclass
class Found:
    """What settling found: slot key -> Id, for the tenant whose rows these are."""

    tenant_id: int
    ids: dict[str, str] = field(default_factory=dict)

    def id_of(self, slot: str) -> str:
        """The Id of the record in this slot: found just now, or confirmed already."""
        if slot in self.ids:
            return self.ids[slot]
        content_type_id, object_id, purpose = slot.split(":", 2)
        row = SyncMapping.objects.filter(
            tenant_id=self.tenant_id,
            content_type_id=int(content_type_id),
            object_id=int(object_id),
            purpose=purpose,
            state=MState.CONFIRMED,
        ).first()
        return row.salesforce_id if row is not None else ""


def _deleting_settle(
    client: SalesforceClient, rows: list[SyncMapping], counts: dict[str, int]
) -> None:
    by_object: dict[str, list[SyncMapping]] = defaultdict(list)
    for row in rows:
        by_object[row.salesforce_object].append(row)
    queries: list[tuple[str, str]] = []
    for sobject, group in by_object.items():
        template = f"SELECT Id FROM {sobject} WHERE Id IN {{values}}"  # noqa: S608
        ids = sorted({r.salesforce_id for r in group})
        queries.extend((sobject, soql) for soql in in_list_queries(template, ids))
    existing = {
        rec["Id"]
        for recs in (queries_run(client, queries) if queries else {}).values()
        for rec in recs
    }
    for row in rows:
        if row.salesforce_id in existing:
            mapping_confirm(row, salesforce_id=row.salesforce_id, guard=as_read(row))
            counts["still_there"] += 1
        else:
            mapping_deleted(row, guard=as_read(row))
            counts["deleted"] += 1


def _sent_find(client: SalesforceClient, rows: list[SyncMapping]) -> Found:
    """Slot key -> the Id of the record Salesforce has for it."""
    found = Found(rows[0].tenant_id if rows else 0)
    if not rows:
        return found
    identities = {r.pk: RecordIdentity.from_json(r.identity) for r in rows}
    records = [r for r in rows if identities[r.pk].sobject not in LINK_PARENT_FIELD]
    links = [r for r in rows if identities[r.pk].sobject in LINK_PARENT_FIELD]
    candidates = _candidates(client, records, identities)
    taken = _owned_ids(rows, [str(c["Id"]) for cs in candidates.values() for c in cs])
    # A record that names another one in doubt (an Opportunity's AccountId, an Event's
    # WhatId) is looked for once that one is settled: passes until nothing moves.
    waiting = sorted(records, key=lambda r: r.pk)
    in_doubt = {key_of(r) for r in rows}
    while waiting:
        still: list[SyncMapping] = []
        for row in waiting:
            identity = identities[row.pk]
            if any(m in in_doubt and m not in found.ids for m in identity.references().values()):
                still.append(row)
                continue
            in_doubt.discard(key_of(row))
            resolved = _references(identity, found)
            if resolved is None:
                continue
            match = _first_match(client, identity, candidates[identity.sobject], resolved, taken)
            if match:
                found.ids[key_of(row)] = match
                taken.add(match)
        if len(still) == len(waiting):
            break  # references in a circle: none of them can be told
        waiting = still
    _links_find(client, links, identities, found, taken)
    return found


def _owned_ids(rows: list[SyncMapping], among: list[str]) -> set[str]:
    """Which of these candidate Ids another row of the tenant already owns: never
    adopted twice."""
    if not rows or not among:
        return set()
    owned = SyncMapping.objects.filter(
        tenant_id=rows[0].tenant_id, state=MState.CONFIRMED, salesforce_id__in=among
    )
    return set(owned.values_list("salesforce_id", flat=True))


def _references(identity: RecordIdentity, found: Found) -> dict[str, str] | None:
    """Field -> Id for the identity's references; None when one of them was never made
    (then neither was this record)."""
    resolved = {}
    for name, slot in identity.references().items():
        record_id = found.id_of(slot)
        if not record_id:
            return None
        resolved[name] = record_id
    return resolved


def _candidates(
    client: SalesforceClient, rows: list[SyncMapping], identities: dict[int, RecordIdentity]
) -> dict[str, list[dict[str, Any]]]:
    by_object: dict[str, list[SyncMapping]] = defaultdict(list)
    for row in rows:
        by_object[identities[row.pk].sobject].append(row)
    queries: list[tuple[str, str]] = []
    for sobject, group in by_object.items():
        since: datetime = min(r.sent_at for r in group if r.sent_at) - CLOCK_SKEW
        users = sorted({r.sent_by_user_id for r in group if r.sent_by_user_id})
        fields = list(MATCH_FIELDS[sobject])
        hashed = HASHED_FIELD.get(sobject)
        if hashed and sobject != "ContentNote":
            fields.append(hashed)
        # Object and field names come from the tables in `identity`; values are escaped.
        where = format_soql("CreatedDate >= {}", since)
        if users:
            where += format_soql(" AND CreatedById IN {}", users)
        narrow = fields[0]
        values = sorted({identities[r.pk].match.get(narrow, "") for r in group})
        if any(v.startswith(REF_PREFIX) or not v for v in values):
            template = f"SELECT Id, {', '.join(fields)} FROM {sobject} WHERE {where}"  # noqa: S608
            queries.append((sobject, template))
            continue
        template = (
            f"SELECT Id, {', '.join(fields)} FROM {sobject} "  # noqa: S608
            f"WHERE {where} AND {narrow} IN {{values}}"
        )
        queries.extend((sobject, soql) for soql in in_list_queries(template, values))
    found = queries_run(client, queries) if queries else {}
    return defaultdict(list, found)


def _first_match(
    client: SalesforceClient,
    identity: RecordIdentity,
    candidates: list[dict[str, Any]],
    resolved: dict[str, str],
    taken: set[str],
) -> str:
    hashed_field = HASHED_FIELD.get(identity.sobject)
    for candidate in sorted(candidates, key=lambda c: str(c["Id"])):
        record_id = str(candidate["Id"])
        if record_id in taken or not row_matches(identity, candidate, resolved):
            continue
        if identity.hashed and hashed_field:
            if identity.sobject == "ContentNote":
                try:
                    value: str | bytes = client.note_content(record_id)
                except SalesforceError as error:
                    if error.kind != "deleted":
                        raise
                    continue  # deleted since the query: not the one
            else:
                value = str(candidate.get(hashed_field) or "")
            if content_hash(value) != identity.hashed:
                continue
        return record_id
    return ""


def _links_find(
    client: SalesforceClient,
    rows: list[SyncMapping],
    identities: dict[int, RecordIdentity],
    found: Found,
    taken: set[str],
) -> None:
    parents: dict[str, set[str]] = defaultdict(set)
    resolved_of: dict[int, dict[str, str]] = {}
    for row in rows:
        identity = identities[row.pk]
        resolved = _references(identity, found)
        if resolved is None:
            continue
        resolved_of[row.pk] = resolved
        parent_field = LINK_PARENT_FIELD[identity.sobject]
        parent_id = resolved.get(parent_field) or identity.match.get(parent_field, "")
        if parent_id:
            parents[identity.sobject].add(parent_id)
    queries: list[tuple[str, str]] = []
    for sobject, ids in parents.items():
        fields = ", ".join(MATCH_FIELDS[sobject])
        parent_field = LINK_PARENT_FIELD[sobject]
        template = f"SELECT Id, {fields} FROM {sobject} WHERE {parent_field} IN {{values}}"  # noqa: S608
        queries.extend((sobject, soql) for soql in in_list_queries(template, sorted(ids)))
    candidates = queries_run(client, queries) if queries else {}
    taken |= _owned_ids(rows, [str(c["Id"]) for cs in candidates.values() for c in cs])
    for row in rows:
        if row.pk not in resolved_of:
            continue
        identity = identities[row.pk]
        match = _first_match(
            client, identity, candidates.get(identity.sobject, []), resolved_of[row.pk], taken
        )
        if match:
            found.ids[key_of(row)] = match
            taken.add(match)
