"""Requests per second the Salesforce emulator serves (run by hand, not a test).

.venv/bin/python bench/emulator.py [--threads 4] [--requests 400]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simple_salesforce import Salesforce, format_soql

from salesforce_emulator.testing import EmulatorServer, OrgHandle, trusted_session


def client(server: EmulatorServer, org: OrgHandle) -> Salesforce:
    return Salesforce(
        instance_url=org.instance_url,
        session_id=org.access_token,
        session=trusted_session(server.ca_file),
    )


def measure(
    name: str, threads: int, total: int, make_call: Callable[[], Callable[[int], None]]
) -> float:
    per_thread = total // threads
    errors: list[BaseException] = []

    def worker() -> None:
        call = make_call()
        try:
            for i in range(per_thread):
                call(i)
        except BaseException as exc:  # report, do not hang the benchmark
            errors.append(exc)

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    rate = per_thread * threads / elapsed
    print(f"{name:<48} {per_thread * threads:>6} requests  {elapsed:6.2f} s  {rate:8.1f} req/s")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    server = EmulatorServer.start()
    try:
        org = server.create_org("Bench")
        org.insert_many(
            "Contact", [{"LastName": f"C{i}", "Email": f"c{i}@example.com"} for i in range(1000)]
        )

        def query_call() -> Callable[[int], None]:
            sf = client(server, org)

            def call(i: int) -> None:
                soql = format_soql(
                    "SELECT Id, Email FROM Contact WHERE Email = {}", f"c{i % 1000}@example.com"
                )
                assert sf.query(soql)["totalSize"] == 1

            return call

        def insert_call() -> Callable[[int], None]:
            sf = client(server, org)

            def call(i: int) -> None:
                records = [
                    {"attributes": {"type": "Task"}, "Subject": f"T{i}-{n}"} for n in range(200)
                ]
                results = sf.restful("composite/sobjects", method="POST", json={"records": records})
                assert all(r["success"] for r in results)

            return call

        print(f"{args.threads} client threads against {server.base_url}")
        measure("query by email over 1,000 contacts", args.threads, args.requests, query_call)
        measure(
            "collection insert of 200 Tasks", args.threads, max(args.requests // 4, 4), insert_call
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
