"""The project's periodic jobs (see ops.scheduler for how they run and how to add one).

Cron expressions are in Europe/Berlin time: minute hour day-of-month month day-of-week.
"""

from django.utils.translation import gettext_lazy as _

from .scheduler import command_job, job

command_job("send_search_alerts", "*/15 * * * *", _("E-mail saved-search alerts"))
command_job("refresh_match_counts", "7 * * * *", _("Refresh inquiries' matching-site counts"))
command_job("anonymise_inquiries", "30 3 * * *", _("Anonymise inquiries past retention"))
command_job("send_freshness_digest", "0 7 * * 1", _("E-mail partners their stale sites"))


def _refresh_transport_layers() -> object:
    # Without SITEFINDER_OSM_EXTRACT_URLS this does nothing (an offline install).
    from geodata.services.transport_refresh import transport_layers_refresh

    return transport_layers_refresh()


job(
    "refresh_transport_layers",
    "30 4 1 * *",
    _("Refresh motorways, junctions, waterways and ports from OpenStreetMap"),
    run=_refresh_transport_layers,
)

# Tiles rebuild the aggregates themselves when they find them behind; this catches the
# day's rollover (staleness) and bulk loads before the first visitor does.
command_job(
    "refresh_site_clusters", "* * * * *", _("Rebuild the map's low-zoom aggregates if behind")
)
