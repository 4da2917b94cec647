"""The partner clients of `bench/stack.py`'s ingest phases, run by locust (headless).

Each simulated client pushes highlights through the partner API with the tenant's API
key, as fast as the server answers (no think time): BENCH_SCENARIO "single" upserts one
highlight per request; "bulk" posts BENCH_BULK_SIZE highlights per request to the bulk
endpoint at BENCH_BULK_PATH. Every request's start and duration go to BENCH_TIMINGS_FILE
(JSON) when locust stops, so the percentiles are exact rather than locust's rounded ones.

Inputs (environment): BENCH_API_KEY, BENCH_MEETINGS (meeting external ids, comma-
separated), BENCH_SCENARIO, BENCH_TIMINGS_FILE, and for "bulk" BENCH_BULK_PATH
("{meeting}" is replaced) and BENCH_BULK_SIZE. With BENCH_RATE (requests per second of
all BENCH_USERS clients together) each client keeps to its share of that rate instead.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from typing import Any

from locust import FastHttpUser, constant, constant_throughput, events, task

API_KEY = os.environ.get("BENCH_API_KEY", "")
MEETINGS = [m for m in os.environ.get("BENCH_MEETINGS", "").split(",") if m]
SCENARIO = os.environ.get("BENCH_SCENARIO", "single")
TIMINGS_FILE = os.environ.get("BENCH_TIMINGS_FILE", "")
BULK_PATH = os.environ.get("BENCH_BULK_PATH", "")
BULK_SIZE = int(os.environ.get("BENCH_BULK_SIZE", "50"))
# Requests per second of all clients together (0: each client sends its next request as
# soon as the last one is answered). Spread over the clients, as a fixed rate each.
RATE = float(os.environ.get("BENCH_RATE", "0"))
USERS = int(os.environ.get("BENCH_USERS", "1"))

_client_numbers = itertools.count(1)
# (start as a Unix time, duration in ms, succeeded)
_timings: list[tuple[float, float, bool]] = []


@events.request.add_listener
def _record(
    response_time: float, exception: BaseException | None, start_time: float, **kwargs: Any
) -> None:
    _timings.append((start_time, response_time, exception is None))


@events.quitting.add_listener
def _save(**kwargs: Any) -> None:
    if TIMINGS_FILE:
        with open(TIMINGS_FILE, "w") as out:
            json.dump(_timings, out)


class PartnerClient(FastHttpUser):
    wait_time = constant_throughput(RATE / USERS) if RATE else constant(0)

    def on_start(self) -> None:
        self.number = next(_client_numbers)
        self.sent = 0
        self.headers = {"Authorization": f"Api-Key {API_KEY}", "X-Forwarded-Proto": "https"}

    def _highlight(self) -> dict[str, Any]:
        self.sent += 1
        return {
            "external_id": f"c{self.number}-{self.sent}",
            "text": f"Client {self.number} highlight {self.sent}: the buyer wants a pilot.",
            "speaker": "Buyer",
            "offset_seconds": self.sent,
        }

    @task
    def push(self) -> None:
        meeting = random.choice(MEETINGS)
        if SCENARIO == "bulk":
            body: dict[str, Any] = {"highlights": [self._highlight() for _ in range(BULK_SIZE)]}
            path, name = BULK_PATH.format(meeting=meeting), "bulk highlights"
        else:
            body = self._highlight()
            path, name = f"/api/v1/meetings/{meeting}/highlights/", "highlight upsert"
        self.client.post(path, json=body, headers=self.headers, name=name)
