"""What ops do to a Salesforce record the portal owns (a SyncMapping) by hand: point it
at another record, e.g. after someone merged two Accounts in Salesforce and the one the
portal made is gone into the other.

Every other change of a mapping is the sync's own (`integrations.sync.mappings`)."""

from __future__ import annotations

import logging

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, InvalidInput
from integrations.enums import Purpose, SObject
from integrations.models import SyncJob, SyncMapping
from integrations.services.choices import SALESFORCE_ID, salesforce_id_18
from integrations.sync.mappings import mapping_replan

logger = logging.getLogger(__name__)

# The first three characters of every Id of an object (its key prefix). An object not
# listed is checked for length and characters only.
KEY_PREFIXES: dict[str, str] = {
    SObject.ACCOUNT: "001",
    SObject.CONTACT: "003",
    SObject.LEAD: "00Q",
    SObject.OPPORTUNITY: "006",
    SObject.OPPORTUNITY_CONTACT_ROLE: "00K",
    SObject.USER: "005",
    SObject.TASK: "00T",
    SObject.EVENT: "00U",
    SObject.EVENT_RELATION: "0RE",
    SObject.CONTENT_NOTE: "069",
    SObject.CONTENT_DOCUMENT_LINK: "06A",
    SObject.NOTE: "002",
}


def salesforce_id_check(record_id: str, *, sobject: str) -> str:
    """The 18-character form of an Id typed by a person, or InvalidInput saying what is
    wrong with it: its length or characters, its last three (checksum) characters, or
    its key prefix for the object."""
    record_id = record_id.strip()
    if not SALESFORCE_ID.match(record_id):
        raise InvalidInput(
            f"“{record_id}” is not a Salesforce Id: an Id has 15 or 18 letters and digits.",
            field="salesforce_id",
        )
    full = salesforce_id_18(record_id[:15])
    if len(record_id) == 18 and record_id[15:].upper() != full[15:]:
        raise InvalidInput(
            f"“{record_id}” is not a Salesforce Id: its last three characters do not match "
            "the first fifteen (a character mistyped, or its case changed?).",
            field="salesforce_id",
        )
    prefix = KEY_PREFIXES.get(sobject)
    if prefix is not None and not full.startswith(prefix):
        article = "an" if sobject[:1] in "AEIOU" else "a"
        raise InvalidInput(
            f"“{record_id}” is not the Id of {article} {sobject}: {sobject} Ids start with "
            f"{prefix}.",
            field="salesforce_id",
        )
    return full


@transaction.atomic
def sync_mapping_reassign(*, mapping: SyncMapping, salesforce_id: str, by: User) -> SyncMapping:
    """Make a record the portal owns point at another Salesforce record of the same
    object. The next sync of its meeting, activity or booking writes to the new record.

    1. Only a record that is in Salesforce (confirmed) is reassigned: one being sent or
       deleted is the sync's to settle, and one not made yet has nothing to point at.
    2. The Id must be a well-formed Id of the mapping's object, and a different record.
    3. The row moves only if it is still as it was read (state and Id), so a sync that
       moved it meanwhile wins and the person is told to look again.
    4. The new record has received nothing from the portal yet (its pushed version is
       0). What hung on the old record (a Note's link to its record, an Event's
       attendees) is made again on the new one; records linked under it are linked
       under the new one when they are made again.
    """
    new_id = salesforce_id_check(salesforce_id, sobject=mapping.salesforce_object)
    if mapping.state != SyncMapping.State.CONFIRMED or not mapping.salesforce_id:
        raise Conflict(
            "Only a record that is in Salesforce can be reassigned; this one is "
            f"“{mapping.get_state_display()}”."
        )
    old_id = mapping.salesforce_id
    if new_id == salesforce_id_18(old_id):
        raise InvalidInput(
            f"This record is {old_id} already; give the Id of the other record.",
            field="salesforce_id",
        )
    running = SyncJob.objects.filter(
        tenant_id=mapping.tenant_id, lock_key=mapping.lock_key, state=SyncJob.State.RUNNING
    )
    if mapping.lock_key and running.exists():
        raise Conflict("A sync of this record is running; try again in a minute.")
    moved = SyncMapping.objects.filter(
        pk=mapping.pk, state=SyncMapping.State.CONFIRMED, salesforce_id=old_id
    ).update(salesforce_id=new_id, pushed_version=0, updated_at=timezone.now())
    if moved != 1:
        raise Conflict("This record changed while you were looking at it; look again.")
    SyncMapping.objects.filter(tenant_id=mapping.tenant_id, parent_id=old_id).update(
        parent_id=new_id
    )
    for dependent in _dependents(mapping, new_parent_id=new_id):
        mapping_replan(dependent, why=f"its record was reassigned from {old_id} to {new_id}")
    logger.info(
        "tenant %s: record %s of %s %s reassigned from %s to %s by %s",
        mapping.tenant_id,
        mapping.purpose,
        mapping.content_type_id,
        mapping.object_id,
        old_id,
        new_id,
        by.get_username(),
    )
    mapping.refresh_from_db()
    return mapping


def _dependents(mapping: SyncMapping, *, new_parent_id: str) -> list[SyncMapping]:
    """Records that live on the reassigned one and do not exist on the new one: a
    Note's link to its record, and an Event's attendees (EventRelations)."""
    links = Purpose(mapping.purpose).links
    if links:
        rows = SyncMapping.objects.filter(
            tenant_id=mapping.tenant_id,
            content_type_id=mapping.content_type_id,
            object_id=mapping.object_id,
            purpose__in=links,
        )
    elif mapping.salesforce_object == SObject.EVENT:
        rows = SyncMapping.objects.filter(
            tenant_id=mapping.tenant_id,
            purpose=Purpose.EVENT_RELATION,
            parent_id=new_parent_id,
        )
    else:
        return []
    return list(rows.filter(state=SyncMapping.State.CONFIRMED))
