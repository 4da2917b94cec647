"""Carry out a plan of record writes in as few API calls as Salesforce allows.

A plan is a list of `Write`s; a field may hold a `Ref` to a record created earlier in
the same plan. One job's writes (up to 25) go out as one Composite request with
allOrNone, so they all land or none does. Many jobs' writes (a backlog) go out as
sObject Collections of up to 200 records, level by level (parents before children),
with allOrNone off so one bad record fails only its own job.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from integrations.salesforce.client import SalesforceClient, composite_halted
from integrations.salesforce.errors import SalesforceError, error_from_body

COMPOSITE_MAX_SUBREQUESTS = 25
COLLECTION_MAX_RECORDS = 200


@dataclass(frozen=True)
class Ref:
    """The Id of the record another write of the same plan creates."""

    key: str


@dataclass
class Write:
    key: str  # unique in a plan; letters, digits and underscores (a Composite referenceId)
    group: str  # what fails together: one job's writes
    op: Literal["create", "update", "delete"]
    sobject: str
    fields: dict[str, Any] = field(default_factory=dict)
    salesforce_id: str = ""

    def refs(self) -> list[str]:
        return [v.key for v in self.fields.values() if isinstance(v, Ref)]


Result = str | SalesforceError  # the record's Id, or why it failed


def writes_execute(
    client: SalesforceClient, writes: list[Write], *, together: bool
) -> dict[str, Result]:
    if not writes:
        return {}
    if together and len(writes) <= COMPOSITE_MAX_SUBREQUESTS:
        return _composite(client, writes)
    return _collections(client, writes, all_or_none=together)


def _composite(client: SalesforceClient, writes: list[Write]) -> dict[str, Result]:
    base = f"{client.base_path}/sobjects"
    subrequests = []
    for write in writes:
        body = {
            k: (f"@{{{v.key}.id}}" if isinstance(v, Ref) else v) for k, v in write.fields.items()
        }
        if write.op == "create":
            sub = {"method": "POST", "url": f"{base}/{write.sobject}", "body": body}
        elif write.op == "update":
            sub = {
                "method": "PATCH",
                "url": f"{base}/{write.sobject}/{write.salesforce_id}",
                "body": body,
            }
        else:
            sub = {"method": "DELETE", "url": f"{base}/{write.sobject}/{write.salesforce_id}"}
        subrequests.append({**sub, "referenceId": write.key})
    try:
        answers = client.composite(subrequests, all_or_none=True, raise_errors=False)
    except SalesforceError as error:
        return {w.key: error for w in writes}
    failed = [
        error_from_body(a["body"], a["httpStatusCode"])
        for a in answers
        if a["httpStatusCode"] >= 300 and not composite_halted(a)
    ]
    results: dict[str, Result] = {}
    for write, answer in zip(writes, answers, strict=True):
        if answer["httpStatusCode"] >= 300:
            if composite_halted(answer):
                cause = failed[0] if failed else error_from_body(answer["body"], None)
                results[write.key] = replace(cause, halted=True)
            else:
                results[write.key] = error_from_body(answer["body"], answer["httpStatusCode"])
        elif write.op == "create":
            results[write.key] = answer["body"]["id"]
        else:
            results[write.key] = write.salesforce_id
    if failed:
        # allOrNone: nothing of this request was kept, even what answered 2xx.
        for write in writes:
            if isinstance(results[write.key], str):
                results[write.key] = replace(failed[0], halted=True)
    return results


def _levels(writes: list[Write]) -> list[list[Write]]:
    by_key = {w.key: w for w in writes}
    depth: dict[str, int] = {}

    def level(write: Write) -> int:
        if write.key not in depth:
            parents = [by_key[k] for k in write.refs() if k in by_key]
            depth[write.key] = 1 + max((level(p) for p in parents), default=-1)
        return depth[write.key]

    grouped: dict[int, list[Write]] = defaultdict(list)
    for write in writes:
        grouped[level(write)].append(write)
    return [grouped[i] for i in sorted(grouped)]


def _collections(
    client: SalesforceClient, writes: list[Write], *, all_or_none: bool
) -> dict[str, Result]:
    results: dict[str, Result] = {}
    failed_groups: dict[str, SalesforceError] = {}
    for level in _levels(writes):
        ready: list[Write] = []
        for write in level:
            if write.group in failed_groups:
                # Never sent: the record it hangs on was not made.
                results[write.key] = replace(failed_groups[write.group], halted=True)
                continue
            ready.append(write)
        for op in ("create", "update", "delete"):
            # Records of one type side by side: Salesforce splits a collection into a
            # chunk at every change of type and refuses more than 10 chunks in one
            # request (sObject Collections, "Cannot have more than 10 chunks").
            batch = sorted((w for w in ready if w.op == op), key=lambda w: w.sobject)
            for start in range(0, len(batch), COLLECTION_MAX_RECORDS):
                chunk = batch[start : start + COLLECTION_MAX_RECORDS]
                for write, result in zip(
                    chunk, _collection_call(client, op, chunk, results, all_or_none), strict=True
                ):
                    results[write.key] = result
                    if isinstance(result, SalesforceError):
                        known = failed_groups.get(write.group)
                        if known is None or (known.halted and not result.halted):
                            failed_groups[write.group] = result  # the real cause wins
    # A job whose note landed but whose event did not is reported failed through the
    # event's own error; the note's Id is kept, so its retry updates that note.
    return results


def _collection_call(
    client: SalesforceClient,
    op: str,
    chunk: list[Write],
    done: dict[str, Result],
    all_or_none: bool,
) -> list[Result]:
    try:
        if op == "delete":
            answers = client.collection_delete(
                [w.salesforce_id for w in chunk], all_or_none=all_or_none
            )
        else:
            records = []
            for write in chunk:
                record: dict[str, Any] = {"attributes": {"type": write.sobject}}
                for name, value in write.fields.items():
                    record[name] = done[value.key] if isinstance(value, Ref) else value
                if op == "update":
                    record["id"] = write.salesforce_id
                records.append(record)
            answers = client.collection(
                "POST" if op == "create" else "PATCH", records, all_or_none=all_or_none
            )
    except SalesforceError as error:
        return [error] * len(chunk)
    out: list[Result] = []
    for write, answer in zip(chunk, answers, strict=True):
        if answer.get("success"):
            out.append(answer.get("id") or write.salesforce_id)
            continue
        refused = error_from_body(answer.get("errors") or [], None)
        if refused.code == "ALL_OR_NONE_OPERATION_ROLLED_BACK":
            # Not refused itself: undone because another record of the request was.
            refused = replace(refused, halted=True)
        out.append(refused)
    return out
