"""django-q2 tasks: thin wrappers that carry a job id to a service."""

from __future__ import annotations

from integrations.outbox import sweeper
from integrations.services import jobs


def sync_job_run(job_id: int) -> None:
    jobs.sync_job_run(job_id=job_id)


def sync_jobs_sweep() -> dict[str, int]:
    return sweeper.sync_jobs_sweep()
