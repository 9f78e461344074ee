"""Settings shared by every environment; values that differ come from the environment."""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# The private cluster started by scripts/pg.sh; DATABASE_URL points anywhere else.
DEFAULT_DATABASE_URL = (
    f"postgis://postgres@127.0.0.1:{os.environ.get('SITEFINDER_PG_PORT', '54329')}/sitefinder"
)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "leaflet",
    "django_tasks_db",
    "accounts",
    "geodata",
    "properties",
    "search",
    "proposals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "sitefinder.middleware.RequestBodyLimitMiddleware",
    "sitefinder.middleware.PrivatePagesNoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "sitefinder.urls"
WSGI_APPLICATION = "sitefinder.wsgi.application"

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

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL),
        engine="django.contrib.gis.db.backends.postgis",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# Short queries, many at once: PostgreSQL's JIT costs 10-100 ms to compile plans that run
# in a few, and parallel workers slow concurrent tile requests on two cores.
# A web request's statement may run STATEMENT_TIMEOUT_MS (a runaway query is cancelled and
# the request answers an error instead of holding a worker); management commands (the task
# worker, imports, migrations) get COMMAND_STATEMENT_TIMEOUT_MS (manage.py sets it; 0 =
# none). A session idle inside a transaction is ended, and while a statement runs the
# server checks every 2 s that its client is still there: a killed importer's statement is
# cancelled and its locks released at once (client_connection_check_interval, PG 14+).
# TCP keepalives notice a client machine that vanished without closing the connection.
STATEMENT_TIMEOUT_MS = int(os.environ.get("SITEFINDER_STATEMENT_TIMEOUT_MS", "5000"))
COMMAND_STATEMENT_TIMEOUT_MS = int(os.environ.get("SITEFINDER_COMMAND_STATEMENT_TIMEOUT_MS", "0"))
IDLE_IN_TRANSACTION_TIMEOUT_MS = int(
    os.environ.get("SITEFINDER_IDLE_IN_TRANSACTION_TIMEOUT_MS", "60000")
)
DATABASES["default"].setdefault("OPTIONS", {}).update(
    {
        "options": (
            "-c jit=off -c max_parallel_workers_per_gather=0"
            f" -c statement_timeout={STATEMENT_TIMEOUT_MS}"
            f" -c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_TIMEOUT_MS}"
            " -c client_connection_check_interval=2000"
        ),
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
    }
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# "en" is written the British way (day first); see sitefinder/formats/en/formats.py.
FORMAT_MODULE_PATH = ["sitefinder.formats"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # npm packages (package-lock.json), only their built files.
    ("vendor/leaflet.vectorgrid", BASE_DIR / "node_modules" / "leaflet.vectorgrid" / "dist"),
    ("vendor/leaflet-geoman", BASE_DIR / "node_modules/@geoman-io/leaflet-geoman-free/dist"),
]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "sitefinder",
        "OPTIONS": {"MAX_ENTRIES": 20000},
    }
}

# E-mail goes through Django's mail system; development prints it, tests keep it in memory.
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "sitefinder <noreply@sitefinder.invalid>")

# Investor accounts (accounts/urls.py) and the links in e-mails, which need an absolute URL.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "map"
LOGOUT_REDIRECT_URL = "map"
SITE_URL = os.environ.get("SITEFINDER_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# How many reverse proxies stand in front of the app (sitefinder.net.client_address): the
# client's address for rate limits is that many entries from the right of X-Forwarded-For.
TRUSTED_PROXIES = int(os.environ.get("SITEFINDER_TRUSTED_PROXIES", "0"))

# Request bodies (sitefinder.middleware.RequestBodyLimitMiddleware): a Content-Length over
# the cap is refused with 413 before the body is read. Anonymous clients send small forms
# (search, inquiry, login); signed-in users' forms a little more; the views that take files
# (partner bulk upload up to 200 MB, the site editor's photos and documents, the admin)
# the upload cap. Form fields without files are bounded by DATA_UPLOAD_MAX_MEMORY_SIZE.
MIB = 1024**2
REQUEST_BODY_MAX_BYTES_ANONYMOUS = int(
    os.environ.get("SITEFINDER_BODY_MAX_BYTES_ANONYMOUS", str(1 * MIB))
)
REQUEST_BODY_MAX_BYTES = int(os.environ.get("SITEFINDER_BODY_MAX_BYTES", str(5 * MIB)))
REQUEST_BODY_MAX_BYTES_UPLOAD = int(
    os.environ.get("SITEFINDER_BODY_MAX_BYTES_UPLOAD", str(210 * MIB))
)
REQUEST_BODY_UPLOAD_VIEWS = [
    "partner_upload",
    "partner_site_new",
    "partner_site_edit",
    "admin:",  # the whole admin (staff only), e.g. site media
]
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * MIB
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * MIB

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "sitefinder.pagination.GeoJsonPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "sitefinder.exceptions.api_exception_handler",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "sitefinder API",
    "DESCRIPTION": (
        "Open API of sitefinder, the commercial site finder of the Ruhr metropolitan area. "
        "Geometries are GeoJSON in EPSG:4326 (lon/lat); distances are metres."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files from the drf-spectacular-sidecar package: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Long work (rendering an offer's exposé, sending e-mails) runs as tasks of Django's task
# framework: stored in the database and run by `manage.py db_worker` (scripts/run.sh starts
# one beside the web server); the tests run them immediately.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("SITEFINDER_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# Site proposals (proposals/): the response-time target of the inquiry inbox (older
# inquiries without an offer are highlighted), the default lifetime of an offer link, and
# the retention of personal data of closed inquiries before they are anonymised.
INQUIRY_RESPONSE_HOURS = int(os.environ.get("SITEFINDER_INQUIRY_RESPONSE_HOURS", "48"))
OFFER_LINK_DAYS = int(os.environ.get("SITEFINDER_OFFER_LINK_DAYS", "30"))
INQUIRY_RETENTION_DAYS = int(os.environ.get("SITEFINDER_INQUIRY_RETENTION_DAYS", "730"))
# The public inquiry form accepts at most this many inquiries per sender address and hour.
INQUIRY_RATE_LIMIT_PER_HOUR = int(os.environ.get("SITEFINDER_INQUIRY_RATE_LIMIT", "5"))
# Where staff notifications of new inquiries go (comma-separated); empty: every staff user.
INQUIRY_NOTIFY_EMAILS = [
    a.strip()
    for a in os.environ.get("SITEFINDER_INQUIRY_NOTIFY_EMAILS", "").split(",")
    if a.strip()
]

# Base map: a tile URL template, or empty for no base map at all (the map then shows the
# region's own boundaries on a plain background and needs no internet).
BASEMAP_URL = os.environ.get("SITEFINDER_BASEMAP_URL", "")
BASEMAP_ATTRIBUTION = os.environ.get("SITEFINDER_BASEMAP_ATTRIBUTION", "")

LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (51.48, 7.2),
    "DEFAULT_ZOOM": 10,
    "MIN_ZOOM": 8,
    "MAX_ZOOM": 18,
    "TILES": [(_("Base map"), BASEMAP_URL, {"attribution": BASEMAP_ATTRIBUTION})]
    if BASEMAP_URL
    else [],
    "SRID": 3857,
    "RESET_VIEW": False,
}

# Folder for bundled reference data shipped with the project (see data/README.md).
REFERENCE_DATA_DIR = BASE_DIR / "data" / "ruhr"

# Freshness (properties/querysets.py): a site not verified ("still current") for this many
# days is stale (flagged to its editors, weekly digest); after the second number it is
# hidden from investors until an editor verifies it again. Sites never verified count
# from when they were added.
SITE_STALE_AFTER_DAYS = int(os.environ.get("SITEFINDER_SITE_STALE_AFTER_DAYS", "180"))
SITE_HIDE_AFTER_DAYS = int(os.environ.get("SITEFINDER_SITE_HIDE_AFTER_DAYS", "270"))

# Vector tiles of sites (properties/tiles.py): below the point zoom, grid clusters; from
# it, one point per site (its point on surface); from the polygon zoom, real footprints.
SITE_TILE_POINT_MIN_ZOOM = 12
SITE_TILE_POLYGON_MIN_ZOOM = 13
# 0 turns the tile cache off (the benchmark measures uncached tiles over HTTP with it).
TILE_CACHE_SECONDS = int(os.environ.get("SITEFINDER_TILE_CACHE_SECONDS", "3600"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"sitefinder": {"level": "INFO"}},
}

# Debian 12 ships GDAL 3.6, older than the 3.9 Django needs to block GDAL's own file and
# network access (gis.W001). GDAL here only ever opens files the server wrote itself, and
# the import core refuses GDAL virtual-file names (/vsicurl/ and friends) before opening.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
