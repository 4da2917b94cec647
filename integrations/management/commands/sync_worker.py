"""`manage.py sync_worker`: a django-q2 cluster plus the short-period sweeper.

The cluster runs sync tasks; this process, while the cluster lives, sweeps every
SYNC_SWEEP_SECONDS so a retry whose backoff passed is dispatched within seconds, not
at the next one-minute schedule. Several of these may run on several machines: a
dispatch only says "look at this job", and claiming is conditional."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django_q.cluster import Cluster

from integrations.outbox.sweeper import sync_jobs_sweep

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Runs a django-q2 cluster and sweeps the sync outbox every few seconds."

    def handle(self, *args: Any, **options: Any) -> None:
        cluster = Cluster()
        cluster.start()
        sentinel = cluster.sentinel
        while sentinel is not None and sentinel.is_alive():
            try:
                sync_jobs_sweep()
            except Exception:
                # The database or the broker is away for a moment: sweep again later.
                logger.exception("sync sweep failed")
            finally:
                close_old_connections()
            sentinel.join(timeout=settings.SYNC_SWEEP_SECONDS)
