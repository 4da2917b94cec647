"""Settings for every environment, driven by environment variables.

Every variable is listed with its default in `.env.example` and the README. Nothing
outside this module reads `os.environ`.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path
from typing import TypedDict

import django_stubs_ext
import environ

# Lets classes django-stubs types as generic (ModelAdmin[SyncJob], ModelForm[...]) be
# subscripted at run time too.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# "development" (the default: a laptop, the demo, the tests) or "production", where
# every secret must be given and a missing one stops the process at start.
DJANGO_ENV: str = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"
DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)

if PRODUCTION:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
    # Fernet keys (comma-separated, newest first) that encrypt OAuth tokens and
    # webhook secrets at rest. Older keys stay listed until data is re-encrypted.
    FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
else:
    # Empty values count as unset, so a copied .env.example works as it is.
    SECRET_KEY = (
        env.str("DJANGO_SECRET_KEY", default="")
        or "development-only-secret-key-not-for-production-use"
    )
    _derived = base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()
    FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[]) or [_derived]
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[]) or [
        "localhost",
        "127.0.0.1",
        "testserver",
    ]

INSTALLED_APPS = [
    "portal.apps.OpsAdminConfig",  # the Django admin, its index with the ops dashboard
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "django_htmx",
    "axes",  # sign-in throttling: records failed attempts, refuses while locked out
    # Our apps, lowest layer first (the contracts are [tool.importlinter] in
    # pyproject.toml). integrations comes after meetings and scheduler: its admin
    # re-registers their ModelAdmins with the sync inlines added.
    "core",
    "tenants",
    "meetings",
    "scheduler",
    "integrations",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A NUL character in the address is a 400 before anything reads the database.
    "core.middleware.RefuseNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # request.htmx: whether a request came from htmx (a fragment is enough then).
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its refusal page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Seconds a process keeps its database connection between requests (0: a new one per
# request). Production keeps it: opening a PostgreSQL connection costs more than a
# partner's whole highlight upsert. A kept connection is checked before each request
# that reuses it, so one the database dropped (a restart, a failover) is replaced
# instead of failing that request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int(
    "DATABASE_CONN_MAX_AGE", default=60 if PRODUCTION else 0
)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DATABASE_CONN_HEALTH_CHECKS", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web server and worker share one SQLite file: wait for a lock instead of failing.
    # Transactions take the write lock when they begin: a transaction that read first
    # and then wanted to write would fail at once ("database is locked") when another
    # writer was busy, without waiting for the timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL: str = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# django-axes' backend comes first: it refuses a locked-out username + address before
# the password is even checked, so the right password does not get through a lockout.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in throttling (the admin and the portal share one sign-in): after this many
# failed attempts for one username from one address, that pair is refused for
# LOGIN_COOLOFF_MINUTES. A success resets the count.
AXES_FAILURE_LIMIT: int = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_COOLOFF_MINUTES: int = env.int("LOGIN_COOLOFF_MINUTES", default=15)
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Reverse proxies in front of the portal whose X-Forwarded-For is trusted: with 1 or
# more the address counted is the one the outermost of them saw (core.client_ip);
# with 0 (no proxy) it is the connection's. Behind a proxy left at 0, every sign-in
# seems to come from the proxy, and one guesser locks a username out for everyone.
TRUSTED_PROXY_COUNT: int = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip_address"
AXES_RESET_ON_SUCCESS = True
# Failed attempts during a lockout do not extend it: the cool-off ends when it said.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_COOLOFF_MESSAGE = (
    f"Too many failed sign-in attempts for this account from your address. "
    f"Sign-in is blocked for {LOGIN_COOLOFF_MINUTES} minutes; try again after that."
)
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The admin shows the product's screens only; ops lift a lockout early with
# `manage.py axes_reset_username <username>`.
AXES_ENABLE_ADMIN = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "login"


class QClusterSettings(TypedDict, total=False):
    """The keys of django-q2's Q_CLUSTER this project sets (django-q2 has no types)."""

    name: str
    workers: int
    timeout: int
    retry: int
    max_attempts: int
    catch_up: bool
    ack_failures: bool
    save_limit: int
    sync: bool
    redis: str
    orm: str
    poll: float


# --- Background work (django-q2) -------------------------------------------------
# Redis carries task ids when REDIS_URL is set; otherwise the database does (the ORM
# broker), which needs no other service. The sync job table stays the source of truth.
Q_CLUSTER: QClusterSettings = {
    "name": "portal",
    "workers": env.int("Q_WORKERS", default=2),
    # Seconds a task may run before the cluster kills it.
    "timeout": env.int("Q_TIMEOUT", default=120),
    # Seconds before an unacknowledged task is handed out again; longer than timeout.
    "retry": env.int("Q_RETRY", default=180),
    "max_attempts": env.int("Q_MAX_ATTEMPTS", default=3),
    "catch_up": False,
    "ack_failures": True,
    "save_limit": 1000,
    "sync": env.bool("Q_SYNC", default=False),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    # How often an idle worker asks the database for a task: the ORM broker's pickup
    # latency (up to this many seconds after a job is queued). Redis hands tasks over at
    # once and needs no polling.
    Q_CLUSTER["poll"] = env.float("Q_POLL", default=0.2)

# --- Salesforce ------------------------------------------------------------------
SALESFORCE_API_VERSION: str = env.str("SALESFORCE_API_VERSION", default="62.0")
# Seconds one HTTP request to Salesforce may take.
SALESFORCE_HTTP_TIMEOUT: int = env.int("SALESFORCE_HTTP_TIMEOUT", default=20)

# --- Sync engine -------------------------------------------------------------------
# Jobs of one tenant a worker takes together (one lookup round, collections of 200).
SYNC_BATCH_SIZE: int = env.int("SYNC_BATCH_SIZE", default=200)
# Tries before a job that keeps meeting retryable errors is marked failed.
SYNC_MAX_ATTEMPTS: int = env.int("SYNC_MAX_ATTEMPTS", default=8)
# Backoff: base * 2^(attempt-1), capped, with jitter of +-50%.
SYNC_RETRY_BASE_SECONDS: int = env.int("SYNC_RETRY_BASE_SECONDS", default=30)
SYNC_RETRY_MAX_SECONDS: int = env.int("SYNC_RETRY_MAX_SECONDS", default=3600)
# How long a tenant's syncing pauses after Salesforce answers REQUEST_LIMIT_EXCEEDED.
SYNC_LIMIT_PAUSE_SECONDS: int = env.int("SYNC_LIMIT_PAUSE_SECONDS", default=900)
# Auto-sync of processed meetings gathers: a meeting processed now is synced at the next
# multiple of this many seconds (then the sweep hands it over), together with every other
# meeting of the tenant processed meanwhile, so meetings that trickle in share their
# lookups and writes (10 a second, 5 s: about 0.1 API calls per meeting). 0: each is
# synced as it comes. Edits, calls and bookings never wait for it.
SYNC_GATHER_SECONDS: float = env.float("SYNC_GATHER_SECONDS", default=5.0 if PRODUCTION else 0.0)
# How often `manage.py sync_worker` sweeps: due retries are dispatched within this many
# seconds of their time, and jobs of a dead worker soon after their lease passed.
SYNC_SWEEP_SECONDS: float = env.float("SYNC_SWEEP_SECONDS", default=2.0)
# A write sent without an answer may still be applied by Salesforce after the client gave
# up: for this long it is neither called lost nor written over (default: three HTTP
# timeouts).
SYNC_IN_DOUBT_GRACE_SECONDS: float = env.float(
    "SYNC_IN_DOUBT_GRACE_SECONDS", default=3.0 * SALESFORCE_HTTP_TIMEOUT
)
# A CA bundle to trust for Salesforce's certificate: the bundled emulator's in the demo
# and tests; empty in production, where the system's trust store is used.
SALESFORCE_CA_FILE: str = env.str("SALESFORCE_CA_FILE", default="")
SALESFORCE_LOGIN_URL: str = env.str("SALESFORCE_LOGIN_URL", default="https://login.salesforce.com")
# Where sandbox orgs sign in (a tenant admin picks "Sandbox" when connecting).
SALESFORCE_SANDBOX_LOGIN_URL: str = env.str(
    "SALESFORCE_SANDBOX_LOGIN_URL", default="https://test.salesforce.com"
)
SALESFORCE_CLIENT_ID: str = env.str("SALESFORCE_CLIENT_ID", default="")
SALESFORCE_CLIENT_SECRET: str = env.str("SALESFORCE_CLIENT_SECRET", default="")

# --- Health (/health/) ----------------------------------------------------------------
# /health/ fails (503) when no sweep finished for this long: the sync worker has stopped.
# The sweeper runs every SYNC_SWEEP_SECONDS in `sync_worker`, once a minute otherwise.
HEALTH_SWEEPER_MAX_AGE_SECONDS: int = env.int("HEALTH_SWEEPER_MAX_AGE_SECONDS", default=300)
# /health/ warns (still 200) when a due sync has waited longer than this.
HEALTH_DUE_JOB_WARN_SECONDS: int = env.int("HEALTH_DUE_JOB_WARN_SECONDS", default=900)

# --- Partner API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tenants.api.authentication.TenantAPIKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["tenants.api.authentication.HasTenantAPIKey"],
    "DEFAULT_PAGINATION_CLASS": "core.api.responses.PartnerPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.PartnerAutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    # Per API key; the rates are API_RATE_LIMIT_BURST and API_RATE_LIMIT_SUSTAINED below.
    "DEFAULT_THROTTLE_CLASSES": ["tenants.api.throttling.APIKeyThrottle"],
}
# The largest request body read (bytes); a larger one answers 413. The default fits the
# longest text the API takes, a 1,000,000-character transcript, in UTF-8 (3 bytes per
# character for CJK) and as JSON \u escapes (6 bytes per character).
DATA_UPLOAD_MAX_MEMORY_SIZE: int = env.int("API_MAX_BODY_BYTES", default=8 * 1024 * 1024)
# Partner API rate limits, per API key ("<count>/<s|min|hour|day>", empty = no limit),
# counted in the cache (shared through Redis when REDIS_URL is set). Over a limit the
# API answers 429 with Retry-After. Burst: the most in one window; sustained: over longer.
API_RATE_LIMIT_BURST: str = env.str("API_RATE_LIMIT_BURST", default="1200/min")
API_RATE_LIMIT_SUSTAINED: str = env.str("API_RATE_LIMIT_SUSTAINED", default="36000/hour")
SPECTACULAR_SETTINGS = {
    "TITLE": "Conversation sync portal: partner API",
    "DESCRIPTION": (
        "Push meetings, attendees, transcripts, highlights, calls and bookings; the "
        "portal keeps the tenant's Salesforce org current. Authenticate with "
        "`Authorization: Api-Key <key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Request bodies are documented as JSON: nested objects and lists need it.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    # Inputs and outputs are separate components: what may be sent is not what is answered.
    "COMPONENT_SPLIT_REQUEST": True,
    # The shared error answers (core.api.schema), after the enums are named.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.error_responses",
    ],
    "TAGS": [
        {"name": "Meetings", "description": "Meetings, their attendees and processing."},
        {"name": "Transcripts", "description": "The transcript of a meeting."},
        {"name": "Highlights", "description": "Moments of a meeting, sent as Notes."},
        {"name": "Activities", "description": "Calls, conferences and tasks."},
        {"name": "Bookings", "description": "Meetings booked through the scheduler."},
        {"name": "Scheduler webhooks", "description": "Booking events from the scheduler."},
        {"name": "Salesforce sync", "description": "Manual sends and sync state."},
        {"name": "Sync jobs", "description": "Follow, answer and retry sync jobs."},
    ],
    "ENUM_NAME_OVERRIDES": {
        "MeetingStatusEnum": "meetings.models.Meeting.Status",
        "BookingStatusEnum": "scheduler.models.Booking.Status",
        "SyncJobStateEnum": "integrations.models.SyncJob.State",
        "SyncRecordStateEnum": "integrations.models.SyncMapping.State",
    },
}
API_KEY_CUSTOM_HEADER = None
# Seconds a web process remembers a partner's API key it has checked, so a request
# needs no lookup of it: a revoked key keeps working at most this long in a process that
# has just used it. 0 checks every request against the database (development and tests:
# a revocation shows at once).
API_KEY_CACHE_SECONDS: float = env.float(
    "API_KEY_CACHE_SECONDS", default=2.0 if PRODUCTION else 0.0
)

# Scheduler webhooks: a signature older than this many seconds is refused.
SCHEDULER_WEBHOOK_TOLERANCE_SECONDS: int = env.int(
    "SCHEDULER_WEBHOOK_TOLERANCE_SECONDS", default=300
)
# Verified deliveries per tenant (badly signed ones are refused first and not counted);
# over it the webhook answers 429 with Retry-After. Empty = no limit.
SCHEDULER_WEBHOOK_RATE_LIMIT: str = env.str("SCHEDULER_WEBHOOK_RATE_LIMIT", default="600/min")

# --- Security --------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe /health/web/ (monitoring /health/) over plain HTTP on the
    # private network.
    SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^health/web/$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

LOG_LEVEL: str = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # django-q2 logs as "django-q": two lines per task and its cluster's heartbeats at
    # INFO. The sync logs every decision itself, so only its warnings are kept.
    # django-axes logs each failed sign-in at WARNING; its INFO lines are bookkeeping.
    "loggers": {
        "django": {"level": "INFO"},
        "django-q": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
