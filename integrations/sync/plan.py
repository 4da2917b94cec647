"""What a job means to write, as a value: an executor builds a `Plan`, the pipeline
carries it out. Every write that makes or changes a record we own names its mapping
(`Slot`), so the write and its bookkeeping can never drift apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from integrations.enums import Purpose
from integrations.models import SyncJob, SyncMapping
from integrations.salesforce.errors import SalesforceError
from integrations.salesforce.matching import Candidate
from integrations.salesforce.payloads import Cut
from integrations.salesforce.writer import Ref, Write


@dataclass(frozen=True)
class Slot:
    """The durable row of one record: (local object, purpose)."""

    content_type_id: int
    object_id: int
    purpose: Purpose

    @classmethod
    def of(cls, local: models.Model, purpose: Purpose) -> Slot:
        content_type = ContentType.objects.get_for_model(type(local))
        return cls(content_type.pk, int(local.pk), purpose)

    @classmethod
    def of_mapping(cls, mapping: SyncMapping) -> Slot:
        return cls(mapping.content_type_id, mapping.object_id, Purpose(mapping.purpose))


@dataclass(frozen=True)
class Parent:
    """The record a Note, Event or Task is linked to; `id` is a Ref while the record is
    created by the same plan."""

    sobject: str
    id: str | Ref
    name: str = ""

    @classmethod
    def of(cls, candidate: Candidate, ref: str | Ref = "") -> Parent:
        return cls(candidate.sobject, ref or candidate.id, candidate.name)

    @classmethod
    def of_mapping(cls, mapping: SyncMapping) -> Parent | None:
        if not mapping.parent_id:
            return None
        return cls(mapping.parent_object, mapping.parent_id, mapping.parent_name)

    def candidate(self) -> Candidate:
        return Candidate(self.sobject, self.id if isinstance(self.id, str) else "", self.name)


@dataclass
class PlannedWrite:
    write: Write
    slot: Slot | None  # None: a change to a record we do not own (a Contact's Account)
    version: int = 0
    parent: Parent | None = None
    mapping: SyncMapping | None = None  # the row as read, for updates and deletes


@dataclass(frozen=True)
class Finish:
    """How a job ends (or waits): its state, and why, in the tenant's words. A pending
    finish with `waiting_for` set spends no attempt: the job waits for something that
    is not a fault of its own, for `retry_in` seconds."""

    state: SyncJob.State
    reason: str
    candidates: list[dict[str, Any]] = field(default_factory=list)
    error: SalesforceError | None = None
    waiting_for: SyncJob.Wait = SyncJob.Wait.NOTHING
    retry_in: float | None = None


@dataclass
class Plan:
    """Writes of one job; keys are unique in a batch because they carry the job id."""

    job_id: int
    reason: str = "Salesforce is up to date."
    writes: list[PlannedWrite] = field(default_factory=list)
    # Emails whose new Lead is remembered as "the record for this address" once made.
    remember_leads: dict[str, Ref] = field(default_factory=dict)
    # Jobs to queue once this one succeeded (e.g. re-render Notes with a new record).
    follow_ups: list[str] = field(default_factory=list)
    # Records with nothing to say yet, and where they go once they have (a meeting
    # synced before it had highlights keeps its Note's place for the first one).
    reserved: list[tuple[Slot, str, Parent]] = field(default_factory=list)
    # Text cut to fit its Salesforce field, for the job's result to name.
    cuts: list[Cut] = field(default_factory=list)

    @property
    def group(self) -> str:
        return f"j{self.job_id}"

    def key(self, name: str) -> str:
        return f"j{self.job_id}_{name}"

    def create(
        self,
        name: str,
        slot: Slot | None,
        sobject: str,
        fields: dict[str, Any],
        *,
        version: int = 0,
        parent: Parent | None = None,
    ) -> Ref:
        key = self.key(name)
        self._add(Write(key, self.group, "create", sobject, fields), slot, version, parent, None)
        return Ref(key)

    def update(
        self, name: str, mapping: SyncMapping, fields: dict[str, Any], *, version: int = 0
    ) -> None:
        write = Write(
            self.key(name),
            self.group,
            "update",
            mapping.salesforce_object,
            fields,
            salesforce_id=mapping.salesforce_id,
        )
        self._add(write, Slot.of_mapping(mapping), version, Parent.of_mapping(mapping), mapping)

    def delete(self, name: str, mapping: SyncMapping) -> None:
        write = Write(
            self.key(name),
            self.group,
            "delete",
            mapping.salesforce_object,
            salesforce_id=mapping.salesforce_id,
        )
        self._add(write, Slot.of_mapping(mapping), 0, Parent.of_mapping(mapping), mapping)

    def touch(self, name: str, sobject: str, record_id: str, fields: dict[str, Any]) -> None:
        """Change a record that is not ours to own (e.g. set a Contact's AccountId)."""
        write = Write(self.key(name), self.group, "update", sobject, fields, record_id)
        self._add(write, None, 0, None, None)

    def _add(
        self,
        write: Write,
        slot: Slot | None,
        version: int,
        parent: Parent | None,
        mapping: SyncMapping | None,
    ) -> None:
        self.writes.append(PlannedWrite(write, slot, version, parent, mapping))

    def reserve(self, slot: Slot, sobject: str, parent: Parent) -> None:
        """Keep the place of a record this job has nothing to write into yet."""
        self.reserved.append((slot, sobject, parent))

    def creates(self) -> list[PlannedWrite]:
        return [w for w in self.writes if w.write.op == "create" and w.slot is not None]
