"""Record pages: a link to ``<instance URL>/<Id>`` (what clients show people) opens the
record in the emulator, as it opens it in Salesforce."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import pytest
import requests
from simple_salesforce import Salesforce

from salesforce_emulator.testing import EmulatorServer, OrgHandle, trusted_session

pytestmark = pytest.mark.emulator


def links(html: str) -> list[str]:
    return re.findall(r"href='([^']*)'", html)


def test_a_record_has_a_page_at_its_id_of_15_or_18_characters(
    sf: Salesforce, salesforce: OrgHandle, http: requests.Session
) -> None:
    account = sf.Account.create({"Name": "Initech", "Industry": "Technology"})["id"]

    for record_id in (account, account[:15]):
        page = http.get(f"{salesforce.instance_url}/{record_id}")
        assert page.status_code == 200
        assert page.headers["Content-Type"].startswith("text/html")
        assert "<h1>Account: Initech</h1>" in page.text
        assert "<th>Industry</th><td><code>Industry</code></td><td>Technology</td>" in page.text


def test_the_lightning_address_of_a_record_opens_the_same_page(
    sf: Salesforce, salesforce: OrgHandle, http: requests.Session
) -> None:
    event = sf.Event.create(
        {"Subject": "Discovery", "StartDateTime": "2026-11-20T15:00:00Z", "DurationInMinutes": 45}
    )["id"]
    base = salesforce.instance_url

    page = http.get(f"{base}/lightning/r/Event/{event}/view")
    wrong_object = http.get(f"{base}/lightning/r/Account/{event}/view")

    assert page.status_code == 200 and "<h1>Event: Discovery</h1>" in page.text
    assert wrong_object.status_code == 404


def test_related_records_link_to_their_own_pages(
    sf: Salesforce, salesforce: OrgHandle, http: requests.Session
) -> None:
    account = sf.Account.create({"Name": "Initech"})["id"]
    contact = sf.Contact.create({"LastName": "Lumbergh", "AccountId": account})["id"]
    base = salesforce.instance_url

    contact_page = http.get(f"{base}/{contact}").text
    account_page = http.get(f"{base}/{account}").text

    assert f"/{account}" in links(contact_page)
    followed = http.get(f"{base}/{account}")
    assert "<h1>Account: Initech</h1>" in followed.text
    # The Account lists the Contact that names it.
    assert f"/{contact}" in links(account_page) and "Lumbergh" in account_page


def test_a_note_shows_its_content_and_the_records_it_is_filed_under(
    sf: Salesforce, salesforce: OrgHandle, http: requests.Session
) -> None:
    account = sf.Account.create({"Name": "Initech"})["id"]
    content = (
        "<p>Budget approved &amp; signed</p><ul><li>Needs SSO</li></ul>"
        '<p><a href="https://recordings.example.com/m-1">Listen</a></p>'
    )
    note = sf.ContentNote.create(
        {"Title": "Discovery call", "Content": base64.b64encode(content.encode()).decode()}
    )["id"]
    sf.ContentDocumentLink.create({"ContentDocumentId": note, "LinkedEntityId": account})

    page = http.get(f"{salesforce.instance_url}/{note}").text

    assert "<h1>Note: Discovery call</h1>" in page
    assert "Budget approved &amp; signed\n• Needs SSO\nListen (https://recordings" in page
    assert f"/{account}" in links(page)


def test_values_are_escaped_never_run_as_html(
    sf: Salesforce, salesforce: OrgHandle, http: requests.Session
) -> None:
    hostile = "<script>alert('x')</script>"
    account = sf.Account.create({"Name": hostile, "Description": "<img src=x onerror=alert(1)>"})
    content = base64.b64encode(f"<p>Hi</p>{hostile}".encode()).decode()
    note = sf.ContentNote.create({"Title": hostile, "Content": content})["id"]

    for record_id in (account["id"], note):
        page = http.get(f"{salesforce.instance_url}/{record_id}").text
        assert "<script>" not in page and "<img" not in page
        assert "&lt;script&gt;" in page


def test_an_unknown_or_deleted_record_has_no_page(
    sf: Salesforce, salesforce: OrgHandle, http: requests.Session
) -> None:
    account = sf.Account.create({"Name": "Gone soon"})["id"]
    sf.Account.delete(account)

    deleted = http.get(f"{salesforce.instance_url}/{account}")
    unknown = http.get(f"{salesforce.instance_url}/001000000000000AAA")

    assert deleted.status_code == 404 and "No such record" in deleted.text
    assert unknown.status_code == 404 and "No such record" in unknown.text


@pytest.fixture
def two_instances() -> Iterator[tuple[EmulatorServer, OrgHandle, OrgHandle]]:
    """One server, two orgs on instances of their own: Acme has its own domain
    (``localhost``), Globex is on the server's host. Its own server, as a domain is
    claimed for as long as the server runs."""
    server = EmulatorServer.start()
    try:
        acme = server.create_org("Acme", my_domain="localhost")
        globex = server.create_org("Globex")
        yield server, acme, globex
    finally:
        server.stop()


def test_a_page_never_shows_another_orgs_record(
    two_instances: tuple[EmulatorServer, OrgHandle, OrgHandle],
) -> None:
    server, acme, globex = two_instances
    http = trusted_session(server.ca_file)
    ours = acme.insert("Account", Name="Ours")
    theirs = globex.insert("Account", Name="Theirs")
    assert acme.instance_url != globex.instance_url

    assert http.get(f"{acme.instance_url}/{ours}").status_code == 200
    assert http.get(f"{globex.instance_url}/{theirs}").status_code == 200
    for instance, record_id in ((acme, theirs), (globex, ours)):
        answer = http.get(f"{instance.instance_url}/{record_id}")
        assert answer.status_code == 404 and "No such record" in answer.text
        lightning = http.get(f"{instance.instance_url}/lightning/r/Account/{record_id}/view")
        assert lightning.status_code == 404
    acme_home = http.get(f"{acme.instance_url}/").text
    assert "Acme" in acme_home and "Globex" not in acme_home
    assert http.get(f"{acme.instance_url}/orgs/{globex.id}/objects/Account").status_code == 404


def test_an_org_with_its_own_domain_is_served_there_by_the_api(
    two_instances: tuple[EmulatorServer, OrgHandle, OrgHandle],
) -> None:
    server, acme, _ = two_instances
    sf = Salesforce(
        instance_url=acme.instance_url,
        session_id=acme.access_token,
        session=trusted_session(server.ca_file),
    )

    created = sf.Account.create({"Name": "Made on its own domain"})["id"]

    assert acme.instance_url.startswith("https://localhost:")
    assert acme.get(created) is not None
