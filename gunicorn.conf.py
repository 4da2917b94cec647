"""Gunicorn settings for the portal in production:

    gunicorn -c gunicorn.conf.py config.wsgi

Read by gunicorn at start (a command-line option wins over a value here). The server
reads its own environment variables, next to the Django settings' ones:

    PORT             the port to listen on, on every interface (default 8000)
    WEB_CONCURRENCY  the number of worker processes (default: 2 x cores + 1, see below)
    FORWARDED_ALLOW_IPS  proxies whose X-Forwarded-* headers are trusted (gunicorn's
                     own variable; default 127.0.0.1: set it to the load balancer's
                     addresses, or "*" when only the load balancer can reach the port)

The numbers below assume what the portal does per request: short PostgreSQL work and a
Redis push. Salesforce is called by the sync workers (`manage.py sync_worker`), never
while a partner or a browser waits, except for the few tenant pages that search
Salesforce records, which wait at most SALESFORCE_HTTP_TIMEOUT (20 s).
"""

from __future__ import annotations

import os


def _cores() -> int:
    """Cores this process may run on (its CPU affinity, which a container's cpuset
    narrows; a CPU quota is not visible here: set WEB_CONCURRENCY in that case)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# --- Where to listen ----------------------------------------------------------------
bind = [f"0.0.0.0:{int(os.environ.get('PORT', '8000'))}"]
# Connections waiting for a free worker; beyond it the kernel refuses new ones.
backlog = 2048
# No runtime control socket (gunicorn's default puts one under $HOME, shared by every
# server of that user on the machine): the platform manages the server with signals.
control_socket_disable = True

# --- Workers --------------------------------------------------------------------------
# Synchronous workers: one request at a time per process, the model Django's ORM and
# psycopg are written for. A worker spends part of each request waiting on PostgreSQL,
# so more workers than cores keep the cores busy: gunicorn's own rule of thumb,
# 2 x cores + 1. Each worker holds one database connection and about 110 MB of
# memory (`make bench-stack` prints it); lower WEB_CONCURRENCY when memory or the
# database's max_connections is the limit, raise it when requests wait on I/O more.
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * _cores() + 1)
# A worker is replaced after this many requests (spread by the jitter, so they do not
# all restart at once): slow memory growth in a long-lived process stays bounded.
max_requests = 1000
max_requests_jitter = 100
# The workers' heartbeat files on a memory file system: a slow or full disk under /tmp
# (common in containers) would make healthy workers look stuck.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# --- Timeouts, below the load balancer's ---------------------------------------------
# A load balancer commonly waits 60 s for an answer (AWS ALB idle timeout, nginx
# proxy_read_timeout) and a platform sends SIGKILL 30 s after SIGTERM (Kubernetes'
# terminationGracePeriodSeconds, ECS' stopTimeout). Each timeout here ends first, so the
# portal, not the layer in front of it, decides what happens:
#
# - timeout: a worker silent for 30 s is killed and replaced; the client gets a 502
#   from the load balancer at 30 s instead of a 504 at 60 s, and the stuck worker no
#   longer holds a slot. Longer than SALESFORCE_HTTP_TIMEOUT (20 s), so a page waiting on
#   Salesforce gets its own error message first.
# - graceful_timeout: on SIGTERM (a deploy, a scale-in) workers stop taking requests and
#   get 25 s to finish the ones they have, within the platform's 30 s.
# - keepalive: the sync worker answers every request with "Connection: close", so this
#   value is not used by it (the load balancer opens a new connection per request; its
#   idle timeout never races ours). With a threaded worker (worker_class "gthread")
#   behind a load balancer it must instead be LONGER than the balancer's idle timeout,
#   or the balancer may send a request on a connection gunicorn is closing (a 502):
#   75 s for a 60 s idle timeout.
timeout = 30
graceful_timeout = 25
keepalive = 5

# --- Logs (standard output and error, for the platform to collect) --------------------
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Client (as the load balancer forwarded it), method, path WITHOUT the query string
# (an OAuth callback carries its authorization code there), status, bytes, duration in
# ms, user agent. Secrets travel in headers, which are not logged.
access_log_format = '%({x-forwarded-for}i)s %(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
