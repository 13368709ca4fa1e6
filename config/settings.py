"""Settings for the elderly-care plan tracker, read from the environment.

Local use needs no environment at all: SQLite, DEBUG on, a development secret key.
Production sets DJANGO_DEBUG=false, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and DATABASE_URL;
`.env.example` lists every variable.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional file; the real environment wins

DEBUG = env.bool("DJANGO_DEBUG", default=True)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else environ.Env.NOTSET)

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_filters",
    "django_tables2",
    "simple_history",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "plans",
    "indicators",
    "tasks",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After authentication and messages: the idle and absolute session limits, then the
    # second-factor gate (see "Security" below). django-otp's own OTPMiddleware is left out on
    # purpose: the gate reads what a login still owes from the session, and that middleware
    # would load the verified device from the database on every page for nothing.
    "plans.sessions.SessionTimeoutMiddleware",
    "plans.otp.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: it turns a lockout flagged during the request into a page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Liaisons submit at the same time near a deadline: wait for the write lock, do not fail.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False

# Dashboards are cached until their plan's data changes (plans/dashboards.py). One process:
# its own memory; several app servers: a shared cache, e.g. CACHE_URL=redis://127.0.0.1:6379/1.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # At least 10 characters of three kinds (plans/passwords.py; replaces MinimumLengthValidator).
    {
        "NAME": "plans.passwords.PasswordRulesValidator",
        "OPTIONS": {"min_length": 10, "min_classes": 3},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out username and IP first
    "django.contrib.auth.backends.ModelBackend",
]

# Login throttling (django-axes): AXES_FAILURE_LIMIT wrong passwords for one username from one
# IP address lock that pair out for 30 minutes; a successful login resets the count. The test
# client's `client.login()` authenticates without a request, which axes refuses: set
# AXES_ENABLED=false for such tests (the suite logs in with force_login or the login form).
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "config.staticfiles.PlotlyFinder",
]
# Uploaded files: evidence attached to report items. Not served from MEDIA_URL (config/urls.py
# routes nothing there and the web server must not either): only the evidence-download view
# hands them out, to users who may read the report.
MEDIA_ROOT = BASE_DIR / (env.str("MEDIA_ROOT", default="") or "media")  # relative: to BASE_DIR
MEDIA_URL = "media/"
# The largest evidence file accepted. Larger uploads are refused after they arrive; cap the
# request body at the web server a little above this (nginx client_max_body_size).
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=10 * 1024 * 1024)
if EVIDENCE_MAX_BYTES <= 0:
    raise ImproperlyConfigured("EVIDENCE_MAX_BYTES must be a positive number of bytes.")
# The largest task-table workbook the plan import accepts (tasks/importing.py); uploads wait
# for confirmation under MEDIA_ROOT/imports/.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
if IMPORT_MAX_BYTES <= 0:
    raise ImproperlyConfigured("IMPORT_MAX_BYTES must be a positive number of bytes.")
# An uploaded file above this is spooled to a temporary file rather than held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # 2.5 MB, Django's default, stated here on purpose
# The form fields of one request, files excluded (a larger body is answered 400). An upload
# from the report page carries the report's whole form too: up to 5,000 characters a field.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

DJANGO_TABLES2_TEMPLATE = "django_tables2/table.html"
DJANGO_TABLES2_TABLE_ATTRS = {"class": "table"}

# The progress rule (indicators/progress.py, README "How a status is decided"): a value within
# PROGRESS_TOLERANCE of the expected value is on track; a task not started with a date due
# within TASK_DUE_SOON_DAYS is at risk.
PROGRESS_TOLERANCE = env.str("PROGRESS_TOLERANCE", default="0.15")
TASK_DUE_SOON_DAYS = env.int("TASK_DUE_SOON_DAYS", default=60)

# Production hardening, on whenever DEBUG is off (checked by `check --deploy`).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # no script reads the token: every form carries it
CSRF_COOKIE_SAMESITE = "Lax"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # False only to try the production set-up over plain HTTP on a closed network (make serve
    # without nginx): browsers do not send secure cookies over HTTP, so no one could log in.
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
    SECURE_CONTENT_TYPE_NOSNIFF = True

# E-mail (reminders to liaisons, reports/reminders.py): printed to the console unless a real
# back-end is configured, e.g. DJANGO_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend.
EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env.str("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("DJANGO_EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("DJANGO_EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("DJANGO_EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="noreply@localhost")
# The address links in e-mails point to (no request to take it from in a scheduled job).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# Reminders go out this many days before and after a period's deadline
# (`manage.py send_reminders`, reports.rules.reminder_occasion).
REMINDER_DAYS_BEFORE = env.list("REMINDER_DAYS_BEFORE", cast=int, default=[7, 1])
REMINDER_DAYS_AFTER = env.list("REMINDER_DAYS_AFTER", cast=int, default=[1, 7])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="WARNING")},
}

# -- Security (等保2.0 level 2/3, OWASP ASVS L2; README "Deploying on an intranet") -------------

# Content-Security-Policy (django-csp), in development too so that tests and browsers see it.
# No inline script anywhere: chart data travels in json_script blocks (type application/json,
# which the browser never runs) and every script is a static file.
# Styles come from our files too, with two exact exceptions instead of 'unsafe-inline' (checked in
# Chromium): plotly.js creates an *empty* <style> element and fills it through the CSSOM
# (insertRule, which CSP does not police) with its modebar, hover and cursor rules: the hash
# of the empty string lets that element exist and nothing else. Without it the charts still
# draw but the toolbar loses its layout and the console fills with violations. The second hash
# is the map stylesheet (maplibre) the bundle injects at load; no chart here uses maps, so a
# plotly upgrade that changes it costs one console message, nothing visible. style="..."
# attributes stay blocked: no template has one.
_EMPTY_STYLE = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
_PLOTLY_MAPLIBRE_STYLE = "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", _EMPTY_STYLE, _PLOTLY_MAPLIBRE_STYLE],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Sessions end after DJANGO_SESSION_IDLE_MINUTES without a request (plans/sessions.py), and in
# any case DJANGO_SESSION_COOKIE_AGE after the login (the 8 hours above), whatever the activity.
SESSION_IDLE_TIMEOUT = dt.timedelta(minutes=env.int("DJANGO_SESSION_IDLE_MINUTES", default=30))
SESSION_ABSOLUTE_TIMEOUT = dt.timedelta(seconds=SESSION_COOKIE_AGE)

# Second factor (django-otp, TOTP): office and admin accounts may enrol an authenticator app at
# /accounts/otp/; once they have, every login asks for its code. With OTP_REQUIRED_FOR_OFFICE
# true (recommended in production) office and admin accounts without one are sent to enrol.
OTP_REQUIRED_FOR_OFFICE = env.bool("OTP_REQUIRED_FOR_OFFICE", default=False)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="养老服务规划目标跟踪")
OTP_TOTP_THROTTLE_FACTOR = 1  # wrong codes: wait 1, 2, 4, 8 ... seconds before the next try

# Audit records: logins, logouts and failures (django-axes AccessLog and AccessFailureLog) and
# the change history (django-simple-history) are read-only in the admin and kept at least
# AUDIT_RETENTION_DAYS; `manage.py prune_audit --older-than-days N` refuses anything shorter.
AUDIT_RETENTION_MINIMUM_DAYS = 183  # six months, the 等保2.0 floor
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=AUDIT_RETENTION_MINIMUM_DAYS)
if AUDIT_RETENTION_DAYS < AUDIT_RETENTION_MINIMUM_DAYS:
    raise ImproperlyConfigured(
        f"AUDIT_RETENTION_DAYS must be at least {AUDIT_RETENTION_MINIMUM_DAYS} (six months)."
    )
# Behind nginx every request comes from 127.0.0.1: name the proxies whose X-Forwarded-For is
# believed, so that throttling and the login records see the user's own address.
TRUSTED_PROXIES = env.list("DJANGO_TRUSTED_PROXIES", default=[])
AXES_CLIENT_IP_CALLABLE = "plans.client_ip.axes_client_ip"
AXES_USERNAME_CALLABLE = "plans.audit.login_username"  # cut to 150 characters, see there
AXES_DISABLE_ACCESS_LOG = False  # successful logins and logouts are recorded: the audit needs them
SIMPLE_HISTORY_REVERT_DISABLED = True  # the admin shows history; it never rewrites from it
