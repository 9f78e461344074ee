"""Precomputed low-zoom aggregates of the public sites (the SiteCluster table).

Below SITE_TILE_POINT_MIN_ZOOM a sites tile shows one feature per occupied cell of a
16 x 16 grid per tile. Grouping the sites under a tile on every request costs time in
proportion to those sites (about 0.5 s for a z8 tile over 1,000,000 sites), so the cells
of every zoom are computed once, from one grouping of the public sites on the finest
grid (the coarser zooms sum the finer cells: cell sizes halve from zoom to zoom), and a
tile reads at most 256 rows.

The aggregates follow the sites' data version (the statement triggers of
geodata.DataVersion) and the day (sites are hidden by staleness with time passing): a tile
request that finds them behind starts a rebuild in a background thread and is served from
the aggregates as they are, so a write shows on the low-zoom map within the seconds a
rebuild takes (about 1 s for 1,000,000 sites) rather than blocking a request. Tiles are
cached under the version the aggregates were built from, never under a newer one. Only
one rebuild runs at a time across processes and machines (an advisory lock on the
primary); a rebuild that finds the aggregates current does nothing.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.utils import timezone

from geodata.models import DataVersion

from .models import Site, SiteClusterBuild

logger = logging.getLogger("sitefinder.clusters")

WORLD_HALF = 20037508.342789244
GRID_CELLS_PER_TILE = 16
_ADVISORY_LOCK = 0x5173_C1D5  # any constant shared by every process of the project


def finest_zoom() -> int:
    return settings.SITE_TILE_POINT_MIN_ZOOM - 1


def cell_size(z: int) -> float:
    """The width of a grid cell at zoom z, in EPSG:3857 metres."""
    return 2 * WORLD_HALF / 2**z / GRID_CELLS_PER_TILE


# All cells of all zooms from one grouping on the finest grid: a cell at zoom z holds the
# finest cells whose indices, shifted right by (finest - z) bits, are its own.
_REBUILD_SQL = f"""
WITH finest AS (
    SELECT floor((ST_X(s.location_web) + {WORLD_HALF}) / %(cell)s)::int AS cx,
           floor((ST_Y(s.location_web) + {WORLD_HALF}) / %(cell)s)::int AS cy,
           count(*) AS n, sum(ST_X(s.location_web)) AS sx, sum(ST_Y(s.location_web)) AS sy,
           min(s.id) AS first_id
    FROM properties_site s
    WHERE {{published}}
    GROUP BY 1, 2
)
INSERT INTO properties_sitecluster (zoom, cell_x, cell_y, site_count, x, y, first_site_id)
SELECT z, f.cx >> (%(finest)s - z), f.cy >> (%(finest)s - z), sum(f.n),
       sum(f.sx) / sum(f.n), sum(f.sy) / sum(f.n), min(f.first_id)
FROM finest f CROSS JOIN generate_series(0, %(finest)s) AS z
GROUP BY z, f.cx >> (%(finest)s - z), f.cy >> (%(finest)s - z)
"""


def site_clusters_state(using: str = DEFAULT_DB_ALIAS) -> SiteClusterBuild | None:
    return SiteClusterBuild.objects.using(using).order_by("-pk").first()


def _is_current(build: SiteClusterBuild | None, sites_version: int, day: datetime.date) -> bool:
    return build is not None and build.sites_version == sites_version and build.day == day


def site_clusters_rebuild(*, force: bool = False) -> SiteClusterBuild | None:
    """Rebuilds the aggregates on the primary if they are behind the sites (or `force`).
    Returns the build now in place, or None when another process holds the rebuild."""
    started = time.monotonic()
    connection = connections[DEFAULT_DB_ALIAS]
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=DEFAULT_DB_ALIAS):
        with connection.cursor() as cursor:
            if outermost:  # one snapshot for the version read and the sites grouped under it
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_ADVISORY_LOCK])
            if not cursor.fetchone()[0]:
                return None
            sites_version = DataVersion.current("sites", using=DEFAULT_DB_ALIAS)
            now = timezone.now()
            day = timezone.localdate(now)
            build = site_clusters_state()
            if not force and _is_current(build, sites_version, day):
                return build
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("DELETE FROM properties_sitecluster")
            # The cut-off of the day, as the tiles' date key has it.
            published, published_params = Site.objects.published_sql("s", now)
            cursor.execute(
                _REBUILD_SQL.format(published=published),
                {"cell": cell_size(finest_zoom()), "finest": finest_zoom(), **published_params},
            )
        SiteClusterBuild.objects.all().delete()
        build = SiteClusterBuild.objects.create(
            sites_version=sites_version,
            day=day,
            built_at=now,
            seconds=time.monotonic() - started,
        )
    logger.info("site clusters rebuilt for sites v%s in %.2f s", sites_version, build.seconds)
    return build


_rebuild_lock = threading.Lock()
_rebuild_running = False


def _rebuild_in_background() -> None:
    global _rebuild_running
    try:
        # Writes that came while it ran: once more, until the aggregates are current.
        for _ in range(5):
            build = site_clusters_rebuild()
            if build is None or _is_current(
                build, DataVersion.current("sites", using=DEFAULT_DB_ALIAS), timezone.localdate()
            ):
                break
    except Exception:  # a failed rebuild leaves the old aggregates; the next tile retries
        logger.exception("site clusters rebuild failed")
    finally:
        connections.close_all()
        with _rebuild_lock:
            _rebuild_running = False


def site_clusters_request_rebuild() -> None:
    """Rebuilds the aggregates in a background thread of this process, unless one runs
    already."""
    global _rebuild_running
    with _rebuild_lock:
        if _rebuild_running:
            return
        _rebuild_running = True
    threading.Thread(target=_rebuild_in_background, name="site-clusters", daemon=True).start()


# The last build each database answered with, for serving cached tiles while it is down.
_last_seen: dict[str, SiteClusterBuild | None] = {}


def site_clusters_for_tiles(using: str) -> tuple[SiteClusterBuild | None, bool]:
    """The aggregates' build to serve low-zoom tiles from (read where the tile is read) and
    whether it is current; starts a rebuild when it is behind. None: there are none yet and
    none could be built now (the caller groups the sites itself). While the database does
    not answer, the build last seen (tiles cached under its version are still served)."""
    try:
        build = site_clusters_state(using)
    except DatabaseError:
        if _last_seen.get(using) is None:
            raise
        return _last_seen[using], False
    if not _is_current(build, DataVersion.current("sites", using=using), timezone.localdate()):
        if build is None or settings.SITE_CLUSTERS_REBUILD_INLINE:
            # The very first low-zoom tile (or the tests): build now, once.
            site_clusters_rebuild()
            build = site_clusters_state(using)
            current = build is not None
        else:
            site_clusters_request_rebuild()
            current = False
    else:
        current = True
    _last_seen[using] = build
    return build, current
