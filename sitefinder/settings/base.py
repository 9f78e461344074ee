"""Settings shared by every environment; values that differ come from the environment."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from properties.basemaps import preset_origins
from sitefinder.csp import content_security_policy

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
    "axes",
    "ops",
]

MIDDLEWARE = [
    # Before everything: an anonymous request for a tile the full path already served (and
    # whose data has not changed since) is answered from the cache with the same headers,
    # log line and metrics, without the stack below (sitefinder.fastpath).
    "sitefinder.fastpath.CachedTileMiddleware",
    # Outermost of the full path: the request id and the log line cover everything below,
    # 503s included.
    "ops.observability.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Django's CSP middleware, also on Django's own debug pages (the policy: sitefinder.csp).
    "sitefinder.middleware.PolicyOnEveryResponseMiddleware",
    "sitefinder.csp.CspNonceForWidgetsMiddleware",
    # Before anything reads the database: decides whether this request reads a replica.
    "sitefinder.db.ReplicaMiddleware",
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
    # Next to last, as django-axes asks (after everything but the outage handler): turns a
    # locked-out login into its lock-out page.
    "axes.middleware.AxesMiddleware",
    # Last, so its process_exception sees a view's lost database connection first.
    "ops.outage.DatabaseOutageMiddleware",
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
                "django.template.context_processors.csp",
            ],
            "libraries": {"sitefinder_i18n": "sitefinder.i18n_tags"},
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
# A database that does not answer fails a request in seconds (a 503, ops.outage), not
# after the operating system's TCP timeout.
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = int(
    os.environ.get("SITEFINDER_DB_CONNECT_TIMEOUT", "3")
)
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
# Read replicas (streaming copies of the primary): DATABASE_REPLICA_URLS, comma-separated.
# Safe requests read from one of them, writes and the writer's following reads go to the
# primary (sitefinder.db).
DATABASE_REPLICAS: list[str] = []
for _index, _url in enumerate(
    u.strip() for u in os.environ.get("DATABASE_REPLICA_URLS", "").split(",") if u.strip()
):
    _alias = f"replica_{_index}"
    DATABASES[_alias] = dj_database_url.parse(
        _url,
        engine="django.contrib.gis.db.backends.postgis",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
    DATABASES[_alias]["OPTIONS"] = dict(DATABASES["default"]["OPTIONS"])
    DATABASES[_alias]["TEST"] = {"MIRROR": "default"}
    DATABASE_REPLICAS.append(_alias)
DATABASE_ROUTERS = ["sitefinder.db.ReplicaRouter"]
# After a write, the writer's reads stay on the primary this long (replicas lag a little).
READ_YOUR_WRITES_SECONDS = int(os.environ.get("SITEFINDER_READ_YOUR_WRITES_SECONDS", "5"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# Login throttling (accounts/throttling.py, django-axes): after LOGIN_FAILURE_LIMIT wrong
# passwords for one account or from one client address, logins (site and admin) are
# refused for LOGIN_COOLOFF_MINUTES, even with the right password.
AUTHENTICATION_BACKENDS = [
    "accounts.throttling.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = os.environ.get("SITEFINDER_LOGIN_THROTTLE", "1") == "1"
AXES_FAILURE_LIMIT = int(os.environ.get("SITEFINDER_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("SITEFINDER_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "sitefinder.net.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.throttling.locked_out"
AXES_VERBOSE = False
# Password-reset e-mails: at most this many per requested address, and per client address,
# in PASSWORD_RESET_WINDOW_MINUTES.
PASSWORD_RESET_LIMIT_PER_EMAIL = int(os.environ.get("SITEFINDER_RESET_LIMIT_PER_EMAIL", "3"))
PASSWORD_RESET_LIMIT_PER_CLIENT = int(os.environ.get("SITEFINDER_RESET_LIMIT_PER_CLIENT", "10"))
PASSWORD_RESET_WINDOW_MINUTES = int(os.environ.get("SITEFINDER_RESET_WINDOW_MINUTES", "60"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "de"
# Each language under its own name (the switcher, the offer's language): a reader finds
# their language whatever language the page is in. Page URLs carry the language
# (/de/..., /nl/...: sitefinder/urls.py); the API, tiles and health checks do not.
LANGUAGES = [
    ("de", "Deutsch"),
    ("en", "English"),
    ("nl", "Nederlands"),
    ("pl", "Polski"),
    ("tr", "Türkçe"),
    ("zh-hans", "简体中文"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Numbers, dates and areas as each language writes them where Django's own formats differ
# ("en" the British way, pl with a narrow no-break space): sitefinder/formats/<locale>/.
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

# One cache every worker and machine shares (tiles, data versions, throttling counters):
# Redis, by default the private one scripts/redis.sh starts (a unix socket in .redis/);
# REDIS_URL (redis://host:6379/0, unix:///path/redis.sock) names another. An outage of it
# costs time, never an error (sitefinder.cache). The tests use a local-memory cache.
REDIS_SOCKET = Path(os.environ.get("SITEFINDER_REDIS_DIR", BASE_DIR / ".redis")) / "redis.sock"
REDIS_URL = os.environ.get("REDIS_URL", f"unix://{REDIS_SOCKET}")
CACHES = {
    "default": {
        "BACKEND": "sitefinder.cache.ResilientRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "sitefinder",
        "OPTIONS": {
            # Fail fast: a cache that does not answer is skipped (sitefinder.cache).
            "socket_connect_timeout": 0.25,
            "socket_timeout": 0.5,
        },
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
    "DEFAULT_SCHEMA_CLASS": "sitefinder.api_schema.SiteAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "sitefinder.pagination.GeoJsonPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "sitefinder.exceptions.api_exception_handler",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["sitefinder.throttles.AnonymousClientThrottle"],
}
# Anonymous API clients: this many requests per client address (DRF rate syntax, e.g.
# "300/minute"; empty: no limit). A 429 says how long to wait.
API_ANONYMOUS_RATE = os.environ.get("SITEFINDER_API_ANONYMOUS_RATE", "300/minute")

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
    # Error statuses and the exports' media types, documented for every operation.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "sitefinder.api_schema.document_errors_and_files",
    ],
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
# The inquiry and "ask about this site" forms refuse what is sent sooner than this after the
# form was rendered: people need longer, bots do not. 0 turns the check off (the tests).
SITEFINDER_FORM_MIN_FILL_SECONDS = 3
# Where staff notifications of new inquiries go (comma-separated); empty: every staff user.
INQUIRY_NOTIFY_EMAILS = [
    a.strip()
    for a in os.environ.get("SITEFINDER_INQUIRY_NOTIFY_EMAILS", "").split(",")
    if a.strip()
]

# Search counts are exact up to this many matches and estimated above ("about …"):
# counting every match of a broad search at 1,000,000 sites costs 0.1-0.3 s
# (sitefinder.counting). 2,000, not the export limit of 10,000: counting stops at the
# limit, and at 10,001 rows the planner built a bitmap of every public site in a map
# area first (0.3-0.7 s for the bbox search at 1,000,000 sites; 25 ms at 2,001).
COUNT_EXACT_MAX = int(os.environ.get("SITEFINDER_COUNT_EXACT_MAX", "2000"))

# Base map: a tile URL template, or empty for no base map at all (the map then shows the
# region's own boundaries on a plain background and needs no internet).
BASEMAP_URL = os.environ.get("SITEFINDER_BASEMAP_URL", "")
BASEMAP_ATTRIBUTION = os.environ.get("SITEFINDER_BASEMAP_ATTRIBUTION", "")
# The open official base maps offered in the maps' switcher (properties/basemaps.py), by
# key, comma-separated: basemapde, basemapde_grey, topplus, topplus_grey, dop_nrw (aerial
# image), alkis_nrw (parcel overlay from zoom 15). Empty: none offered (no internet needed).
BASEMAPS = [
    key.strip() for key in os.environ.get("SITEFINDER_BASEMAPS", "").split(",") if key.strip()
]
# The base map shown when a map opens ("none", a key above or "custom" for BASEMAP_URL);
# empty: BASEMAP_URL if set, else none.
BASEMAP_DEFAULT = os.environ.get("SITEFINDER_BASEMAP_DEFAULT", "")
# An external geocoder for the place search (Photon or Nominatim base URL, e.g.
# https://photon.komoot.io/api or https://nominatim.openstreetmap.org/search); empty:
# the place search answers from our own data only.
GEOCODER_URL = os.environ.get("SITEFINDER_GEOCODER_URL", "")
GEOCODER_KIND = os.environ.get("SITEFINDER_GEOCODER_KIND", "photon")  # or "nominatim"
GEOCODER_TIMEOUT_S = float(os.environ.get("SITEFINDER_GEOCODER_TIMEOUT", "2"))

# Content-Security-Policy on every response (sitefinder/csp.py): no inline script without
# the request's nonce; the base maps' hosts (own tile URL, official presets offered) are
# allowed for images and fetches.
SECURE_CSP = content_security_policy(BASEMAP_URL, preset_origins(BASEMAPS))

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

# Transport layers from OpenStreetMap (geodata/services/transport_refresh.py): extracts
# (comma- or space-separated .osm.pbf URLs, each with a .md5 beside it) downloaded, verified
# and imported monthly and by `manage.py refresh_transport_layers`. Empty: never online.
OSM_EXTRACT_URLS = os.environ.get("SITEFINDER_OSM_EXTRACT_URLS", "").replace(",", " ").split()
OSM_DOWNLOAD_DIR = Path(os.environ.get("SITEFINDER_OSM_DOWNLOAD_DIR", BASE_DIR / "var" / "osm"))
OSM_DOWNLOAD_TIMEOUT = int(os.environ.get("SITEFINDER_OSM_DOWNLOAD_TIMEOUT", "60"))

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
# At 1,000,000 sites the densest z12 tile held 14,000 points (1.1 MB, 0.33 s to build) and a
# z13 tile of footprints about four times a z14 one; so z12 is clustered like z11 and z13
# shows points (3,700 in the densest tile, 45 ms), footprints from z14.
SITE_TILE_POINT_MIN_ZOOM = 13
SITE_TILE_POLYGON_MIN_ZOOM = 14
# Below the point zoom the unfiltered map reads precomputed cells (properties.clusters),
# rebuilt in a background thread when the sites changed; the tests rebuild them inline.
SITE_CLUSTERS_REBUILD_INLINE = False
# A search's low-zoom tile groups its own sites on the fly up to this many sites under the
# tile (about 40 ms); beyond, it shows the precomputed cells of all sites, marked
# `unfiltered`, and the map asks to zoom in.
SITE_TILE_FILTERED_CLUSTER_MAX = int(
    os.environ.get("SITEFINDER_TILE_FILTERED_CLUSTER_MAX", "50000")
)
# 0 turns the tile cache off (the benchmark measures uncached tiles over HTTP with it).
TILE_CACHE_SECONDS = int(os.environ.get("SITEFINDER_TILE_CACHE_SECONDS", "3600"))
# Cached tiles for anonymous clients answered before the middleware stack
# (sitefinder.fastpath); "0" turns it off. A data version read by any process is trusted
# for DATA_VERSION_MEMO_SECONDS (no database query per tile): a write shows on the map that
# much later at most. Each process keeps the hottest tiles in TILE_MEMORY_CACHE_BYTES.
# Anonymous visitors' map pages and API searches are kept this long in the shared cache,
# keyed on the query, language and data version (sitefinder.pagecache); 0 turns it off.
ANONYMOUS_PAGE_CACHE_SECONDS = int(os.environ.get("SITEFINDER_ANONYMOUS_PAGE_CACHE_SECONDS", "600"))
TILE_FAST_PATH = os.environ.get("SITEFINDER_TILE_FAST_PATH", "1") == "1"
DATA_VERSION_MEMO_SECONDS = float(os.environ.get("SITEFINDER_DATA_VERSION_MEMO_SECONDS", "1"))
TILE_MEMORY_CACHE_BYTES = int(os.environ.get("SITEFINDER_TILE_MEMORY_CACHE_BYTES", str(16 * MIB)))

# One JSON object per line on stderr (ops.observability): a line per request
# (`sitefinder.request`) and per task (`sitefinder.task`), each with the request id.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "ops.observability.RequestIdFilter"}},
    "formatters": {"json": {"()": "ops.observability.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"sitefinder": {"level": "INFO"}},
}

# /metrics (Prometheus) answers a staff session or `Authorization: Bearer <this token>`;
# empty: staff sessions only.
METRICS_TOKEN = os.environ.get("SITEFINDER_METRICS_TOKEN", "")

# Debian 12 ships GDAL 3.6, older than the 3.9 Django needs to block GDAL's own file and
# network access (gis.W001). GDAL here only ever opens files the server wrote itself, and
# the import core refuses GDAL virtual-file names (/vsicurl/ and friends) before opening.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
