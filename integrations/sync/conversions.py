"""Converted Leads are followed: when a Lead the portal wrote to (or a person chose) is
converted in Salesforce, what the portal keeps for it moves to the converted records.

Salesforce itself moves the Lead's activities when it converts it: each Task and Event
naming the Lead names the Contact instead, related to the Opportunity or else the
Account (SOAP API Developer Guide, "convertLead()"). A converted Lead can no longer be
written to ("cannot reference converted lead", CANNOT_UPDATE_CONVERTED_LEAD), so:
- the rows of Notes, Events and Tasks linked to the Lead name its converted Contact;
- a Note's link to the Lead stays in Salesforce, but no longer counts as the Note's
  link: the Note is linked to the Contact by the job that runs next (the row goes), and
  to the converted Account (a second link, planned here, so a retry still makes it);
- remembered choices of the Lead (for an address or a number) name the Contact.
The rows are moved before the job plans, in one transaction, so a job that fails after
it finds the Contact, and is retried, finds it again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.db import transaction
from django.db.models import QuerySet

from integrations.enums import Purpose, SObject
from integrations.models import MatchChoice, SyncMapping
from integrations.salesforce.matching import Conversion
from tenants.models import Tenant

logger = logging.getLogger(__name__)


def conversions_follow(tenant: Tenant, conversions: Mapping[str, Conversion]) -> None:
    """Move the tenant's rows and choices of each converted Lead to its Contact. Rows in
    doubt are left alone: their job settles them first, and follows the Lead then."""
    if not conversions:
        return
    with transaction.atomic():
        for conversion in conversions.values():
            lead_ids = {conversion.lead_id, conversion.lead_id[:15]}
            rows = SyncMapping.objects.filter(
                tenant=tenant, parent_object=SObject.LEAD, parent_id__in=lead_ids
            ).exclude(state__in=SyncMapping.IN_DOUBT)
            _account_links_plan(tenant, rows, conversion)
            unlinked = rows.filter(
                salesforce_object=SObject.CONTENT_DOCUMENT_LINK,
                state=SyncMapping.State.CONFIRMED,
            ).delete()[0]
            moved = rows.update(
                parent_object=SObject.CONTACT,
                parent_id=conversion.contact_id,
                parent_name=conversion.contact_name[:255],
            )
            chosen = MatchChoice.objects.filter(
                tenant=tenant, salesforce_object=SObject.LEAD, salesforce_id__in=lead_ids
            ).update(salesforce_object=SObject.CONTACT, salesforce_id=conversion.contact_id)
            logger.info(
                "tenant %s: converted Lead %s followed to Contact %s (%s rows, %s links to "
                "make again, %s choices)",
                tenant.slug,
                conversion.lead_id,
                conversion.contact_id,
                moved,
                unlinked,
                chosen,
            )


def _account_links_plan(
    tenant: Tenant, rows: QuerySet[SyncMapping], conversion: Conversion
) -> None:
    """For each Lightning Note of the Lead: its link to the converted Account, planned
    (a link made already stays as it is)."""
    if not conversion.account_id:
        return
    for note in rows.filter(salesforce_object=SObject.CONTENT_NOTE):
        purpose = Purpose(note.purpose).account_link
        if purpose is None:
            continue
        link, made = SyncMapping.objects.get_or_create(
            tenant=tenant,
            content_type_id=note.content_type_id,
            object_id=note.object_id,
            purpose=purpose,
            defaults={
                "salesforce_object": SObject.CONTENT_DOCUMENT_LINK,
                "parent_object": SObject.ACCOUNT,
                "parent_id": conversion.account_id,
                "parent_name": conversion.account_name[:255],
                "lock_key": note.lock_key,
            },
        )
        if not made and link.state in (SyncMapping.State.PLANNED, SyncMapping.State.DELETED):
            SyncMapping.objects.filter(pk=link.pk).update(
                state=SyncMapping.State.PLANNED,
                salesforce_id="",
                parent_object=SObject.ACCOUNT,
                parent_id=conversion.account_id,
                parent_name=conversion.account_name[:255],
            )
