"""Django settings for Farley.

Twelve-factor: every setting that differs between machines comes from an environment
variable, with a default that works on a laptop (SQLite under ``var/``).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("FARLEY_VAR_DIR", PROJECT_DIR / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """Return SECRET_KEY from the environment, or one generated once and kept under var/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("DEBUG", False)
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django.contrib.humanize",
    "ninja",  # its bundled Swagger UI, served from here: the API docs work offline
    "farley.core",
    "farley.contacts",
    "farley.documents",
    "farley.activities",
    "farley.sales",
    "farley.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "farley.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "farley.core.middleware.UserLanguageMiddleware",
    "farley.core.middleware.ApiErrorEnvelopeMiddleware",
    "farley.core.middleware.ServiceErrorMiddleware",
    "farley.core.middleware.SessionActivityMiddleware",
    "farley.core.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "farley.urls"
WSGI_APPLICATION = "farley.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "farley.web.templating.DjangoTemplates",
        "NAME": "django",
        # FARLEY_TEMPLATE_DIR: operators' own templates (e.g. sales/quotes/pdf.html) win.
        "DIRS": [d for d in [os.environ.get("FARLEY_TEMPLATE_DIR", "")] if d],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "farley.web.context.navigation",
            ],
        },
    }
]

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'farley.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; "
            "PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456; PRAGMA temp_store=MEMORY; "
            # Deleted and freed content is overwritten with zeros (erasures, farley.core.search_purge).
            "PRAGMA secure_delete=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Email: SMTP when FARLEY_EMAIL_HOST is set, else printed to the server's console (make run).
EMAIL_HOST = os.environ.get("FARLEY_EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("FARLEY_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("FARLEY_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("FARLEY_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("FARLEY_EMAIL_TLS", False)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("FARLEY_EMAIL_FROM", "Farley <farley@localhost>")
PASSWORD_RESET_TIMEOUT = 3600  # a reset link works once, for an hour

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "farley.core.oidc.OIDCBackend",  # single sign-on; does nothing unless configured below
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Single sign-on with OpenID Connect (mozilla-django-oidc, farley.core.oidc): off unless the
# issuer and the client are set. Endpoints come from the issuer's discovery document unless
# given one by one. See README.md and docs/security.md.
OIDC_ISSUER = os.environ.get("FARLEY_OIDC_ISSUER", "").strip()
OIDC_RP_CLIENT_ID = os.environ.get("FARLEY_OIDC_CLIENT_ID", "").strip()
OIDC_RP_CLIENT_SECRET = os.environ.get("FARLEY_OIDC_CLIENT_SECRET", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("FARLEY_OIDC_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("FARLEY_OIDC_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("FARLEY_OIDC_USERINFO_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("FARLEY_OIDC_JWKS_URI", "")
OIDC_RP_SCOPES = os.environ.get("FARLEY_OIDC_SCOPES", "openid email profile")
OIDC_RP_SIGN_ALGO = os.environ.get("FARLEY_OIDC_SIGN_ALGO", "RS256")
OIDC_PROVIDER_NAME = os.environ.get("FARLEY_OIDC_PROVIDER_NAME", "")
OIDC_CREATE_USER = _env_bool("FARLEY_OIDC_CREATE_USERS", False)
OIDC_DEFAULT_ROLE = os.environ.get("FARLEY_OIDC_DEFAULT_ROLE", "read_only")
OIDC_DEFAULT_TEAM = os.environ.get("FARLEY_OIDC_DEFAULT_TEAM", "")
OIDC_REQUIRE_VERIFIED_EMAIL = _env_bool("FARLEY_OIDC_REQUIRE_VERIFIED_EMAIL", True)
OIDC_TRUST_IDP_MFA = os.environ.get("FARLEY_OIDC_TRUST_IDP_MFA", "off")  # off, amr or always
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_TIMEOUT = 10
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"

LANGUAGE_CODE = os.environ.get("FARLEY_LANGUAGE", "en")
LANGUAGES = [("en", _("English")), ("de", _("German"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = os.environ.get("FARLEY_TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True
DEFAULT_CURRENCY = "EUR"

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Uploaded files: outside the web root, never served directly (downloads check permissions).
MEDIA_ROOT = Path(os.environ.get("FARLEY_MEDIA_DIR", VAR_DIR / "media")).resolve()
FARLEY_MAX_ATTACHMENT_MB = int(os.environ.get("FARLEY_MAX_ATTACHMENT_MB", "20"))
# Patterns of quote and order numbers ({year}, {number:05d}); counted gap-free per year.
FARLEY_QUOTE_NUMBER = os.environ.get("FARLEY_QUOTE_NUMBER", "AN-{year}-{number:05d}")
FARLEY_ORDER_NUMBER = os.environ.get("FARLEY_ORDER_NUMBER", "AU-{year}-{number:05d}")
# Quotes: days a new quote is valid; the sender of quote PDFs (letterhead and footer).
FARLEY_QUOTE_VALIDITY_DAYS = int(os.environ.get("FARLEY_QUOTE_VALIDITY_DAYS", "30"))
FARLEY_COMPANY_NAME = os.environ.get("FARLEY_COMPANY_NAME", "Farley GmbH")
FARLEY_COMPANY_ADDRESS = os.environ.get(
    "FARLEY_COMPANY_ADDRESS", "Musterstraße 1, 10115 Berlin, Deutschland"
)
FARLEY_COMPANY_EMAIL = os.environ.get("FARLEY_COMPANY_EMAIL", "")
FARLEY_COMPANY_PHONE = os.environ.get("FARLEY_COMPANY_PHONE", "")
FARLEY_COMPANY_WEBSITE = os.environ.get("FARLEY_COMPANY_WEBSITE", "")
FARLEY_COMPANY_VAT_ID = os.environ.get("FARLEY_COMPANY_VAT_ID", "")
FARLEY_COMPANY_REGISTER = os.environ.get("FARLEY_COMPANY_REGISTER", "")
FARLEY_COMPANY_MANAGING_DIRECTOR = os.environ.get("FARLEY_COMPANY_MANAGING_DIRECTOR", "")
FARLEY_BANK_NAME = os.environ.get("FARLEY_BANK_NAME", "")
FARLEY_BANK_IBAN = os.environ.get("FARLEY_BANK_IBAN", "")
FARLEY_BANK_BIC = os.environ.get("FARLEY_BANK_BIC", "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# A 20 MB body must be refused early; the API answers 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = _env_bool("FARLEY_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
if SESSION_COOKIE_SECURE:  # behind TLS: browsers must keep using HTTPS
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("FARLEY_LOG_LEVEL", "WARNING")},
}

# Links in emails (reminders, calendar feeds) start with this address.
FARLEY_BASE_URL = os.environ.get("FARLEY_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Overdue tasks are escalated to their team's lead this many hours after they fell due.
FARLEY_ESCALATION_HOURS = int(os.environ.get("FARLEY_ESCALATION_HOURS", "24"))

# Background jobs (reminders, escalations, retention). Embedded (default): the server runs
# them itself, no other service needed. With FARLEY_CELERY_BROKER (e.g. redis://127.0.0.1:6379/0)
# they run in Celery workers: `celery -A farley worker --beat`.
CELERY_BROKER_URL = os.environ.get("FARLEY_CELERY_BROKER", "")
CELERY_RESULT_BACKEND = os.environ.get("FARLEY_CELERY_RESULTS", CELERY_BROKER_URL or None)
CELERY_TASK_IGNORE_RESULT = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
FARLEY_JOBS = "celery" if CELERY_BROKER_URL else "embedded"
