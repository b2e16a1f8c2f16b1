"""Pingan settings, read from the environment (12-factor).

Every setting an operator may change is an environment variable named PINGAN_*
(plus DATABASE_URL); docs/operations.md lists them. Nothing secret is committed:
the secret key and the field-encryption keys are generated into var/ on first run.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PINGAN_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)
CATALOG_DIR = BASE_DIR / "catalog"
DATA_DIR = BASE_DIR / "data"


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def secret_from_var(name: str, env_name: str, factory) -> str:
    """An environment value, else a value generated once into var/ (mode 0600)."""
    if os.environ.get(env_name):
        return os.environ[env_name]
    path = VAR_DIR / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(factory())
    return path.read_text().strip()


SECRET_KEY = secret_from_var("secret-key", "PINGAN_SECRET_KEY", lambda: secrets.token_urlsafe(50))
DEBUG = env_bool("PINGAN_DEBUG")
# Demo mode relaxes the staff second factor so a newcomer can walk the demo; never in production.
DEMO_MODE = env_bool("PINGAN_DEMO")
TESTING = env_bool("PINGAN_TESTING") or "pytest" in sys.modules
ALLOWED_HOSTS = env_list("PINGAN_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("PINGAN_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_htmx",
    "csp",
    "pingan.core",
    "pingan.orgs",
    "pingan.accounts",
    "pingan.inbox",
    "pingan.assignments",
    "pingan.notify",
    "pingan.credentials",
    "pingan.ratings",
    "pingan.eservices",
    "pingan.ebikes",
    "pingan.alerts",
    "pingan.reunion",
    "pingan.dna",
    "pingan.indicators",
    "pingan.api",
    # Last: freezes the start-up registries once every app above has registered.
    "pingan.site",
]
if TESTING:  # the workflow engine's test-only app (a concrete item and its workflow); pingan.site stays last
    INSTALLED_APPS.insert(INSTALLED_APPS.index("pingan.site"), "pingan.core.tests.workflowapp")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside everything that may refuse a request: under /api/ every error is the API's JSON.
    "pingan.api.middleware.ApiErrorFormatMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "pingan.core.middleware.SecurityHeadersMiddleware",
    "pingan.core.middleware.RejectNullCharactersMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "pingan.core.middleware.RequestContextMiddleware",
    # Last: axes must see the outcome of authentication attempts.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pingan.urls"
WSGI_APPLICATION = "pingan.wsgi.application"
ASGI_APPLICATION = "pingan.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "pingan" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pingan.site.context_processors.site",
                "pingan.notify.context_processors.notifications",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# Embedded default: SQLite in WAL mode under var/. Production: DATABASE_URL=postgres://...
SQLITE_PATH = VAR_DIR / "pingan.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{SQLITE_PATH}",
        conn_max_age=int(os.environ.get("PINGAN_DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE: a writing transaction takes the write lock at BEGIN, so two writers queue
        # instead of one failing with "database is locked" when it upgrades its read lock.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA busy_timeout=20000; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;"
        ),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("PINGAN_DB_CONN_MAX_AGE", "600"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pingan"}}
if os.environ.get("PINGAN_REDIS_URL"):
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["PINGAN_REDIS_URL"],
    }

# --- Authentication and sessions ---------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses locked-out credentials before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "pingan.accounts.backends.PingAnBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Tests create many users; the hash strength is not what they test.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "site:home"
LOGOUT_REDIRECT_URL = "site:home"

HTTPS = env_bool("PINGAN_HTTPS")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = HTTPS
SESSION_COOKIE_AGE = int(os.environ.get("PINGAN_SESSION_SECONDS", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "pingan.site.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if HTTPS:
    SECURE_SSL_REDIRECT = env_bool("PINGAN_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content Security Policy: no inline script anywhere, nothing from another origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Failed-login lockout (django-axes): per account and address.
AXES_FAILURE_LIMIT = int(os.environ.get("PINGAN_LOCKOUT_FAILURES", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("PINGAN_LOCKOUT_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "pingan.accounts.views.lockout_response"
# Counts per account whichever identifier was typed; stores no raw ID or mobile number.
AXES_USERNAME_CALLABLE = "pingan.accounts.signin.axes_username"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True

OTP_TOTP_ISSUER = "Pingan 平安"

# --- Personal data protection -------------------------------------------------
# Field encryption keys (32 random bytes each, base64url as Fernet writes them; newest first:
# rotate by prepending; identity.encrypt derives its AES-256 key from each) and the keyed-hash key.
FIELD_ENCRYPTION_KEYS = env_list("PINGAN_FIELD_KEYS") or [
    secret_from_var(
        "field-key",
        "PINGAN_FIELD_KEY",
        lambda: __import__("base64").urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    )
]
BLIND_INDEX_KEY = secret_from_var("blind-index-key", "PINGAN_BLIND_INDEX_KEY", lambda: secrets.token_hex(32))

# --- Internationalisation -------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "pingan" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"

# --- Static files: from installed packages and the project, served by WhiteNoise ----
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns (an error in the suite) if it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"  # never served directly: uploads go through access-checked views
WHITENOISE_USE_FINDERS = TESTING

# --- API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous call then gets 401 + WWW-Authenticate (DRF asks the first class).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "pingan.api.auth.TokenAuthentication",
        "pingan.api.auth.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "pingan.api.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "pingan.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Pingan API",
    "DESCRIPTION": "平安 — provincial policing platform API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",  # tags and operation ids by resource: orgs, staff…
    # Enum components where two fields share a name with different choices (add yours here).
    "ENUM_NAME_OVERRIDES": {
        "OrgKindEnum": "pingan.orgs.models.Kind",
        "AccountKindEnum": "pingan.accounts.models.Kind",
    },
}
REST_KNOX = {"TOKEN_TTL": None, "AUTH_HEADER_PREFIX": "Token"}

# --- Mail (issue notifications go through Django's mail backends) -----------------
EMAIL_BACKEND = os.environ.get("PINGAN_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = os.environ.get("PINGAN_FROM_EMAIL", "noreply@pingan.invalid")

# --- Pingan ------------------------------------------------------------------------
# Hash chains the timeline is split over: appends on different chains never wait for each other.
TIMELINE_CHAINS = int(os.environ.get("PINGAN_TIMELINE_CHAINS", "8"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PINGAN_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "django.request": {"level": "ERROR"}},
}

# --- Self-service kiosks (docs/kiosk.md); other KIOSK_* settings have defaults in eservices/kiosk.py
KIOSK_CODE = os.environ.get("PINGAN_KIOSK_CODE", "")
KIOSK_CARD_READER = os.environ.get("PINGAN_KIOSK_CARD_READER", "pingan.eservices.cardreader.SimulatedCardReader")

# --- Notifications (docs/notifications.md): the outbox retries until delivered.
NOTIFY_SMS_BACKEND = os.environ.get("PINGAN_SMS_BACKEND", "pingan.notify.sms.FileBackend")
NOTIFY_SITE_URL = os.environ.get("PINGAN_SITE_URL", "")  # absolute links in mail and SMS
EMAIL_TIMEOUT = int(os.environ.get("PINGAN_EMAIL_TIMEOUT", "10"))

# --- Electronic credentials (docs/credentials.md)
CREDENTIALS_SIGNATURE_SUITE = os.environ.get("PINGAN_CREDENTIALS_SUITE", "Ed25519")
CREDENTIALS_PRESENTATION_SECONDS = int(os.environ.get("PINGAN_CREDENTIALS_PRESENTATION_SECONDS", "180"))
