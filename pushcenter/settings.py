"""Push Center settings, read from the environment; every default serves a laptop."""

from __future__ import annotations

import base64
import binascii
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from pushcenter.env import (
    env_bool,
    env_choice,
    env_email_url,
    env_int,
    env_list,
    env_public_url,
    env_rate,
    env_str,
    is_set,
)
from pushcenter.production import (
    DEVELOPMENT_ENCRYPTION_KEY,
    DEVELOPMENT_SECRET_KEY,
    check_production,
)

BASE_DIR = Path(__file__).resolve().parent.parent
# The dashboard's templates and static files live in the package, so an installed wheel has them.
PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("PUSHCENTER_VAR_DIR", str(BASE_DIR / "var")))

# The laptop shape (manage.py, `make demo`, `make test`) runs with DEBUG on; `make serve` and
# `manage.py serve` turn it off unless DEBUG is set explicitly.
DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("PUSHCENTER_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
ENCRYPTION_KEYS = env_list("PUSHCENTER_ENCRYPTION_KEYS", DEVELOPMENT_ENCRYPTION_KEY)


def _check_encryption_keys(keys: list[str]) -> None:
    if not keys:
        raise ImproperlyConfigured("PUSHCENTER_ENCRYPTION_KEYS must name at least one key")
    for position, key in enumerate(keys, start=1):
        try:
            raw = base64.urlsafe_b64decode(key.encode())
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ImproperlyConfigured(
                f"PUSHCENTER_ENCRYPTION_KEYS: key {position} is not a Fernet key "
                "(32 url-safe base64-encoded bytes); make one with `python -c "
                "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
            )


_check_encryption_keys(ENCRYPTION_KEYS)

if not DEBUG:
    check_production(SECRET_KEY, ENCRYPTION_KEYS, env_str("PUSHCENTER_CACHE_URL", ""))

# Error reports (the DEBUG page, mails to ADMINS) mask passwords inside URLs too.
DEFAULT_EXCEPTION_REPORTER_FILTER = "pushcenter.error_reports.UrlPasswordFilter"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# Where apps reach this server: every API URL and snippet the dashboard shows starts with it.
# The default is the demo's own address (`make demo`, PORT 8000), which sets it for its port.
PUBLIC_URL = env_public_url("PUSHCENTER_PUBLIC_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "modeltranslation",
    "pushcenter.apps.PushCenterAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "pushcenter.apps.PushCenterConfig",
    "devices.apps.DevicesConfig",
    "segments.apps.SegmentsConfig",
    "events.apps.EventsConfig",
    "campaigns.apps.CampaignsConfig",
    "metrics.apps.MetricsConfig",
    "experiments.apps.ExperimentsConfig",
    "journeys.apps.JourneysConfig",
    "webhooks.apps.WebhooksConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "pushcenter.api_errors.ApiBodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "pushcenter.dashboard_middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "pushcenter.dashboard_middleware.CsrfViewMiddleware",
    "pushcenter.dashboard_middleware.AuthenticationMiddleware",
    "pushcenter.time_zones.TimeZoneMiddleware",
    "pushcenter.dashboard_middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "pushcenter.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "pushcenter.urls"
WSGI_APPLICATION = "pushcenter.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Listed first, not left to the app loader, so that they override the admin's and
        # drf-spectacular's own templates (those apps come before ours in INSTALLED_APPS).
        "DIRS": [PACKAGE_DIR / "templates"],
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

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'pushcenter.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Concurrent web and worker processes on one laptop file need WAL and a busy wait.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Bind parameters on the server. Statements are prepared only where the code asks
    # (pushcenter.sql.execute_prepared), since a prepared statement soon runs one generic plan
    # for every value: right for the registration upsert, wrong for a segment count, whose best
    # plan depends on its values. Django turns preparing off unless a threshold is given, so
    # the threshold is set past reach: psycopg would otherwise prepare any query run 5 times.
    DATABASES["default"]["OPTIONS"] = {
        "server_side_binding": True,
        "prepare_threshold": sys.maxsize,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# Without `next`, a login lands on the dashboard (Django's default, /accounts/profile/, is no page).
LOGIN_REDIRECT_URL = "admin:index"
# Failed logins are counted in the cache per username and per client address; either limit
# reached refuses that username or address, right password included, for the lockout period.
LOGIN_FAILURES_PER_USERNAME = env_int("PUSHCENTER_LOGIN_FAILURES_PER_USERNAME", 5, minimum=1)
LOGIN_FAILURES_PER_ADDRESS = env_int("PUSHCENTER_LOGIN_FAILURES_PER_ADDRESS", 20, minimum=1)
LOGIN_LOCKOUT_SECONDS = env_int("PUSHCENTER_LOGIN_LOCKOUT_SECONDS", 900, minimum=1)
# A password-reset link is valid this long (Django's default is three days).
PASSWORD_RESET_TIMEOUT = env_int("PUSHCENTER_PASSWORD_RESET_SECONDS", 3600, minimum=60)

# Email, for password resets: printed on the console on a laptop, SMTP in production.
_EMAIL = env_email_url("PUSHCENTER_EMAIL_URL", "console:" if DEBUG else "smtp://localhost:25")
EMAIL_BACKEND = _EMAIL.backend
EMAIL_HOST = _EMAIL.host
EMAIL_PORT = _EMAIL.port
EMAIL_HOST_USER = _EMAIL.user
EMAIL_HOST_PASSWORD = _EMAIL.password
EMAIL_USE_TLS = _EMAIL.use_tls
EMAIL_USE_SSL = _EMAIL.use_ssl
del _EMAIL
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Push Center <pushcenter@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "en"
# The languages a notification can be written in: each is a column per text field
# (django-modeltranslation), so a device's locale finds its content in one row.
# Every code is a target of Azure Translator (campaigns/translation.py maps the spelling).
LANGUAGES = [
    ("en", "English"),
    ("ar", "Arabic"),
    ("cs", "Czech"),
    ("da", "Danish"),
    ("de", "German"),
    ("el", "Greek"),
    ("es", "Spanish"),
    ("fi", "Finnish"),
    ("fr", "French"),
    ("fr-ca", "French (Canada)"),
    ("he", "Hebrew"),
    ("hi", "Hindi"),
    ("hu", "Hungarian"),
    ("id", "Indonesian"),
    ("it", "Italian"),
    ("ja", "Japanese"),
    ("ko", "Korean"),
    ("nb", "Norwegian Bokmål"),
    ("nl", "Dutch"),
    ("pl", "Polish"),
    ("pt", "Portuguese (Brazil)"),
    ("pt-pt", "Portuguese (Portugal)"),
    ("ro", "Romanian"),
    ("ru", "Russian"),
    ("sk", "Slovak"),
    ("sv", "Swedish"),
    ("th", "Thai"),
    ("tr", "Turkish"),
    ("uk", "Ukrainian"),
    ("vi", "Vietnamese"),
    ("zh-hans", "Chinese (Simplified)"),
    ("zh-hant", "Chinese (Traditional)"),
]
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
# The dashboard is in English; the language columns above are content, not interface.
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# pushcenter/static is found as an app's static folder (pushcenter is an installed app).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Security: cookies are secure whenever DEBUG is off; HSTS and the HTTPS redirect are opt-in,
# because they only make sense once TLS terminates in front of the server.
SESSION_COOKIE_SECURE = env_bool("PUSHCENTER_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = env_int("PUSHCENTER_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("PUSHCENTER_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("PUSHCENTER_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("PUSHCENTER_SSL_REDIRECT", False)
# Behind a proxy, the proxy's X-Forwarded-Proto and X-Forwarded-For are trusted.
BEHIND_TLS_PROXY = env_bool("PUSHCENTER_BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The cache holds API rate counters; set PUSHCENTER_CACHE_URL to Redis in production so that
# limits hold across processes and machines.
_CACHE_URL = env_str("PUSHCENTER_CACHE_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _CACHE_URL}
    if _CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
API_RATE = env_rate("PUSHCENTER_API_RATE", "1000/s")
# A client key is in every copy of the app: the whole app shares the key's rate, and one
# address gets its own smaller share. An address can be one phone or thousands behind a
# carrier's NAT, all reporting launches after one send: the share is roomy (10 a second), enough
# to stop one abuser filling the key's rate, not so small that a NAT's customers are refused.
CLIENT_KEY_RATE = env_rate("PUSHCENTER_CLIENT_KEY_RATE", "1000/s")
CLIENT_ADDRESS_RATE = env_rate("PUSHCENTER_CLIENT_ADDRESS_RATE", "600/m")
# Unknown or revoked tokens from one address before it is refused for the rest of the window.
FAILED_AUTH_RATE = env_rate("PUSHCENTER_FAILED_AUTH_RATE", "20/m")
API_RATE_CACHE = "default"

# The largest legitimate API body is an events call with 10,000 user ids of 256 characters and
# 10,000 install ids: about 3.0 MB, 3.2 MB pretty-printed. 4 MiB leaves room for escapes.
API_MAX_BODY_BYTES = env_int("PUSHCENTER_API_MAX_BODY_BYTES", 4 * 1024 * 1024)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["devices.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["devices.authentication.HasAppToken"],
    "DEFAULT_THROTTLE_CLASSES": ["devices.throttling.ApiTokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["pushcenter.request_limits.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "pushcenter.api_errors.handle_api_exception",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Push Center API",
    "DESCRIPTION": "Register devices, manage audiences and send push notifications.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Names for choice sets whose field names other endpoints also use ("kind", "status").
    "ENUM_NAME_OVERRIDES": {
        "KindEnum": "campaigns.models.Kind",
        "JourneyStepKindEnum": "journeys.models.StepKind",
        "JourneyStatusEnum": "journeys.models.JourneyStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "pushcenter.api_schema.add_error_answers",
    ],
}

# Celery. The laptop default is kombu's filesystem transport under var/: a broker that needs
# no server. Production names Redis or RabbitMQ in CELERY_BROKER_URL.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "control", "results"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    _default_result_backend = f"file://{_broker_dir / 'results'}"
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    _default_result_backend = CELERY_BROKER_URL
else:
    _default_result_backend = "rpc://"
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", _default_result_backend)
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat writes these into its database schedule when it starts. The sweep starts what is due,
# expires what has expired and sets workers on sends that wait (a retry, a local time).
SWEEP_SECONDS = env_int("PUSHCENTER_SWEEP_SECONDS", 60)
# Webhook posts run on their own queue, so the workers that send notifications never wait on an
# endpoint: `manage.py serve` runs a worker for it; elsewhere run `celery -A pushcenter worker -Q
# webhooks`.
CELERY_TASK_ROUTES = {"webhooks.deliver": {"queue": "webhooks"}}
# How often webhook events are batched and posted: an event reaches its endpoint about this soon.
WEBHOOKS_DISPATCH_SECONDS = env_int("PUSHCENTER_WEBHOOKS_DISPATCH_SECONDS", 10, minimum=1)
# How long one POST to a webhook endpoint may wait for each of connecting, sending and answering.
WEBHOOKS_TIMEOUT_SECONDS = env_int("PUSHCENTER_WEBHOOKS_TIMEOUT_SECONDS", 10, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "campaigns-sweep": {"task": "campaigns.sweep", "schedule": float(SWEEP_SECONDS)},
    # Metrics pages read rollups, recomputed this often for what moved since.
    "metrics-roll-up": {"task": "metrics.roll_up", "schedule": float(SWEEP_SECONDS)},
    # Conversions of the events reported since the last run, for the rollup to count.
    "campaigns-count-conversions": {
        "task": "campaigns.count_conversions",
        "schedule": float(SWEEP_SECONDS),
    },
    # Journeys enrol what their triggers found and send the steps now due; A/B tests send
    # their winners when the time comes.
    "journeys-run": {"task": "journeys.run", "schedule": float(SWEEP_SECONDS)},
    "experiments-decide": {"task": "experiments.decide", "schedule": float(SWEEP_SECONDS)},
    # Webhooks batch new delivery events and post the batches due for a try.
    "webhooks-dispatch": {
        "task": "webhooks.dispatch",
        "schedule": float(WEBHOOKS_DISPATCH_SECONDS),
    },
}
# How long a worker holds a claimed batch of deliveries; a batch whose worker died is claimed
# again once its lease has run out.
DELIVERY_LEASE_SECONDS = env_int("PUSHCENTER_DELIVERY_LEASE_SECONDS", 300)
# Sending tasks set on one notification at most: each claims batches until none is left, so
# as many worker processes as this share a big send.
SENDERS_PER_NOTIFICATION = env_int("PUSHCENTER_SENDERS_PER_NOTIFICATION", 8)
# How long a delivery the provider answers "later" keeps trying, at most: its notification's
# expiry ends it sooner. Long enough to outlast a provider's incident, not to nag a day later.
RETRY_WINDOW_HOURS = env_int("PUSHCENTER_RETRY_WINDOW_HOURS", 24)

# Push providers. The defaults are the real services; PUSHCENTER_SANDBOX=1 points every one at
# the loopback sandbox gateways; a value set explicitly in the environment wins over both.
PUSHCENTER_SANDBOX = env_bool("PUSHCENTER_SANDBOX", False)
SANDBOX_HOST = "localhost"
# The gateways listen on three consecutive ports, APNs on the first, then FCM and WNS; every
# sandbox URL and host below follows them, so a second checkout's demo runs beside the first.
SANDBOX_APNS_PORT = env_int("PUSHCENTER_SANDBOX_PORTS", 9441, minimum=1)
if SANDBOX_APNS_PORT > 65533:
    raise ImproperlyConfigured(
        "PUSHCENTER_SANDBOX_PORTS is the first of three ports, so at most 65533; "
        f"got {SANDBOX_APNS_PORT}"
    )
SANDBOX_FCM_PORT = SANDBOX_APNS_PORT + 1
SANDBOX_WNS_PORT = SANDBOX_APNS_PORT + 2
SANDBOX_DIR = VAR_DIR / "sandbox"


def _provider_url(name: str, real: str, sandbox: str) -> str:
    url = env_str(name, real) if is_set(name) else sandbox if PUSHCENTER_SANDBOX else real
    # Every provider call carries a bearer token or a signed assertion: TLS or nothing.
    if not url.lower().startswith("https://"):
        raise ImproperlyConfigured(
            f"{name} must be an https:// URL: bearer tokens are never sent in clear text; "
            f"got {url!r}"
        )
    return url


_APNS_SANDBOX = f"https://{SANDBOX_HOST}:{SANDBOX_APNS_PORT}"
_FCM_SANDBOX = f"https://{SANDBOX_HOST}:{SANDBOX_FCM_PORT}"
_WNS_SANDBOX = f"https://{SANDBOX_HOST}:{SANDBOX_WNS_PORT}"

# APNs: one URL for apps in Apple's production environment, one for its development sandbox.
APNS_PRODUCTION_URL = _provider_url(
    "PUSHCENTER_APNS_URL", "https://api.push.apple.com", _APNS_SANDBOX
)
APNS_DEVELOPMENT_URL = _provider_url(
    "PUSHCENTER_APNS_URL", "https://api.sandbox.push.apple.com", _APNS_SANDBOX
)
FCM_URL = _provider_url("PUSHCENTER_FCM_URL", "https://fcm.googleapis.com", _FCM_SANDBOX)
FCM_TOKEN_URL = _provider_url(
    "PUSHCENTER_FCM_TOKEN_URL", "https://oauth2.googleapis.com/token", f"{_FCM_SANDBOX}/token"
)
FCM_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
WNS_TOKEN_URL = _provider_url(
    "PUSHCENTER_WNS_TOKEN_URL", "https://login.microsoftonline.com", _WNS_SANDBOX
)
# The Package SID flow's token endpoint (Store apps registered in Partner Center).
WNS_LEGACY_TOKEN_URL = _provider_url(
    "PUSHCENTER_WNS_LEGACY_TOKEN_URL",
    "https://login.live.com/accesstoken.srf",
    f"{_WNS_SANDBOX}/accesstoken.srf",
)
# Channel-URI hosts: an entry allows that host and its subdomains on the https port; an entry
# with a port ("localhost:9443", the sandbox's WNS) allows exactly that host and port.
WNS_HOSTS = env_list(
    "PUSHCENTER_WNS_HOSTS",
    f"notify.windows.com,{SANDBOX_HOST}:{SANDBOX_WNS_PORT}"
    if PUSHCENTER_SANDBOX
    else "notify.windows.com",
)
# Webhook endpoints never point inward (private, loopback, link-local addresses); this lets
# loopback through, for the sandbox demo and the tests. On with PUSHCENTER_SANDBOX by default.
WEBHOOKS_ALLOW_LOOPBACK = env_bool("PUSHCENTER_WEBHOOKS_ALLOW_LOOPBACK", PUSHCENTER_SANDBOX)
CA_BUNDLE = env_str(
    "PUSHCENTER_CA_BUNDLE", str(SANDBOX_DIR / "ca.pem") if PUSHCENTER_SANDBOX else ""
)
# A process keeps its provider connections open across batches (Apple treats connections opened
# and closed in quick succession as a denial-of-service attack); one unused this long is closed.
PROVIDER_IDLE_SECONDS = env_int("PUSHCENTER_PROVIDER_IDLE_SECONDS", 300)

# Translation of notification content: "offline" (no network; marks each text with its target
# language, for the demo and tests) or "azure" (Azure Translator v3).
TRANSLATOR = env_choice("PUSHCENTER_TRANSLATOR", "offline", ("offline", "azure"))
AZURE_TRANSLATOR_URL = env_str(
    "PUSHCENTER_AZURE_TRANSLATOR_URL", "https://api.cognitive.microsofttranslator.com"
)
AZURE_TRANSLATOR_KEY = env_str("PUSHCENTER_AZURE_TRANSLATOR_KEY", "")
AZURE_TRANSLATOR_REGION = env_str("PUSHCENTER_AZURE_TRANSLATOR_REGION", "")
if TRANSLATOR == "azure" and not AZURE_TRANSLATOR_KEY:
    raise ImproperlyConfigured(
        "PUSHCENTER_AZURE_TRANSLATOR_KEY must be set when PUSHCENTER_TRANSLATOR is azure"
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # httpx logs every request's URL at INFO; a webhook endpoint's URL may carry its owner's
    # token in its path or query, so only its warnings are kept.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}
