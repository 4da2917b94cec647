"""SPEC 3.2 and 3.3: a processed meeting, with auto-sync on, lands in Salesforce as one
Note holding every highlight and (in Notes-and-Events mode) one Event."""

from __future__ import annotations

import pytest

from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.sync.conftest import last_job, meeting_push

pytestmark = pytest.mark.django_db(transaction=True)


def test_processed_meeting_becomes_one_note_and_one_event_on_the_account(
    partner: Partner, sf: OrgHandle
) -> None:
    account = sf.insert("Account", Name="Initech")
    contact = sf.insert("Contact", LastName="Bob", Email="Bob@Initech.example", AccountId=account)

    meeting_push(partner)

    job = last_job("meeting.processed")
    assert job.state == "succeeded", job.reason
    notes = sf.records("ContentNote")
    assert len(notes) == 1
    body = sf.note_content(notes[0]["Id"]).decode()
    assert "Budget is approved" in body and "Needs SSO" in body
    links = [l for l in sf.records("ContentDocumentLink") if l["LinkedEntityId"] == account]
    assert len(links) == 1
    events = sf.records("Event")
    assert len(events) == 1
    assert events[0]["Subject"] == "Discovery with Initech"
    assert events[0]["WhatId"] == account and events[0]["WhoId"] == contact
