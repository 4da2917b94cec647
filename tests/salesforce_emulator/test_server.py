from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from simple_salesforce import Salesforce

from salesforce_emulator.testing import EmulatorServer, OrgHandle, trusted_session

pytestmark = pytest.mark.emulator
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(  # noqa: S603 - fixed argv, our own module
        [
            sys.executable,
            "-m",
            "salesforce_emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data",
            str(tmp_path / "org.json"),
            "--access-token",
            "demo-token",
            "--ca-file",
            str(tmp_path / "ca.pem"),
            "--client-id",
            "demo",
            "--client-secret",
            "s3cret",
            "--callback-url",
            "http://localhost:8000/cb",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.startswith("Salesforce emulator serving https://127.0.0.1:"), first
    return process


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


def test_command_line_server_keeps_records_and_certificate_across_restarts(tmp_path: Path) -> None:
    port = _free_port()
    process = _start(tmp_path, port)
    try:
        http = trusted_session(str(tmp_path / "ca.pem"))
        sf = Salesforce(
            instance_url=f"https://127.0.0.1:{port}", session_id="demo-token", session=http
        )
        account = sf.Account.create({"Name": "Kept"})["id"]
        time.sleep(0.3)
    finally:
        _stop(process)
    certificate = (tmp_path / "ca.pem").read_bytes()
    process = _start(tmp_path, port)
    try:
        assert (tmp_path / "ca.pem").read_bytes() == certificate
        http = trusted_session(str(tmp_path / "ca.pem"))
        sf = Salesforce(
            instance_url=f"https://127.0.0.1:{port}", session_id="demo-token", session=http
        )
        assert sf.Account.get(account)["Name"] == "Kept"
        token = http.post(
            f"https://127.0.0.1:{port}/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "demo",
                "client_secret": "s3cret",
            },
        )
        assert token.status_code == 200
    finally:
        _stop(process)


def test_plain_verification_refuses_the_emulator_certificate(salesforce: OrgHandle) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(
            f"{salesforce.instance_url}/services/data/",
            timeout=5,
            verify="/etc/ssl/certs/ca-certificates.crt"
            if Path("/etc/ssl/certs/ca-certificates.crt").exists()
            else True,
        )


def test_pages_list_orgs_objects_and_records_escaped(
    salesforce: OrgHandle, http: requests.Session
) -> None:
    salesforce.insert("Account", Name="<script>alert(1)</script>")
    index = http.get(salesforce.instance_url + "/")
    assert index.status_code == 200 and salesforce.id in index.text
    page = http.get(f"{salesforce.instance_url}/orgs/{salesforce.id}/objects/Account")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert" not in page.text
    log = http.get(f"{salesforce.instance_url}/orgs/{salesforce.id}/log")
    assert log.status_code == 200


def test_control_api_drives_an_org_from_another_process(
    salesforce_server: EmulatorServer, http: requests.Session
) -> None:
    base = f"{salesforce_server.base_url}/_emulator"
    org = http.post(f"{base}/orgs", json={"name": "Remote"}).json()
    seeded = http.post(
        f"{base}/orgs/{org['id']}/records/Contact",
        json={"records": [{"LastName": "A"}, {"LastName": "B"}]},
    ).json()
    assert len(seeded["ids"]) == 2
    http.post(
        f"{base}/orgs/{org['id']}/faults/fail-next",
        json={"n": 1, "method": "GET", "error_code": "SERVER_UNAVAILABLE", "status": 503},
    )
    sf = Salesforce(instance_url=org["instance_url"], session_id=org["access_token"], session=http)
    with pytest.raises(Exception, match="SERVER_UNAVAILABLE"):
        sf.limits()
    assert sf.limits()["DailyApiRequests"]["Remaining"] == 100000 - 2
    log = http.get(f"{base}/orgs/{org['id']}/request-log").json()
    assert [entry["status"] for entry in log] == [503, 200]
    rows = http.get(f"{base}/orgs/{org['id']}/records/Contact").json()
    assert sorted(r["LastName"] for r in rows) == ["A", "B"]
    assert http.get(f"{base}/orgs/{org['id']}").json()["api_calls"] == 2


def test_creating_an_org_is_cheap(salesforce_server: EmulatorServer) -> None:
    started = time.perf_counter()
    for i in range(100):
        salesforce_server.create_org(f"Org {i}")
    assert time.perf_counter() - started < 1.0
