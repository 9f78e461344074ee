"""Staff's dashboard: supply by municipality, size class and planning category; inquiries
per month and by outcome; the median time to the first offer; unmet demand (inquiries no
site matched, investor searches that found nothing). Charts are server-rendered SVG with
the numbers as a table beside them (proposals.charts)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from accounts.permissions import staff_required
from properties.presentation import area_short

from . import dashboard
from .charts import bar_chart
from .presentation import age_text, requirement_summary


def _count(value: int) -> str:
    return number_format(value, 0, force_grouping=True)


@staff_required
def staff_dashboard(request: HttpRequest) -> HttpResponse:
    """Staff: supply, inquiries, time to first offer and unmet demand, as charts and tables.
    A constant number of queries: aggregates only, whatever the number of sites or
    inquiries; it only reads (match counts are kept by proposals.services.matching)."""
    supply = dashboard.supply_groups()
    totals = dashboard.supply_totals(supply)
    by_municipality = dashboard.supply_by_municipality(supply)
    by_size = dashboard.supply_by_size_class(supply)
    by_category = dashboard.supply_by_planning_category(supply)
    per_month = dashboard.inquiries_per_month()
    by_status = dashboard.inquiries_by_status()
    first_offer = dashboard.time_to_first_offer()
    unmet = dashboard.unmet_inquiries()
    empty_searches = dashboard.empty_searches_top()
    inquiry_total = sum(count for _value, _label, count in by_status)

    def supply_chart(slug: str, title: str, label_heading: str, rows: list) -> Any:
        return bar_chart(
            slug=slug,
            title=title,
            description=_("Sites investors see: %(list)s.")
            % {"list": "; ".join(f"{row.label}: {row.count}" for row in rows) or "–"},
            label_heading=label_heading,
            value_heading=_("Sites"),
            rows=[(row.label, row.count, _count(row.count)) for row in rows],
            extra=[area_short(row.area_m2) if row.area_m2 else "–" for row in rows],
            extra_heading=_("Gross area"),
            empty_text=_("No published sites."),
        )

    # The short charts first, side by side; the long one (every municipality) below them.
    charts = [
        supply_chart("supply-size", _("Supply by size class"), _("Size class"), by_size),
        supply_chart(
            "supply-planning", _("Supply by planning category"), _("Planning category"), by_category
        ),
        supply_chart(
            "supply-municipality",
            _("Supply by municipality"),
            _("Municipality"),
            by_municipality,
        ),
    ]
    months = [(date_format(month, "YEAR_MONTH_FORMAT"), count) for month, count in per_month]
    inquiry_charts = [
        bar_chart(
            slug="inquiries-month",
            title=_("Inquiries per month"),
            description=_("Inquiries received in the last 12 months: %(list)s.")
            % {"list": "; ".join(f"{month}: {count}" for month, count in months)},
            label_heading=_("Month"),
            value_heading=_("Inquiries"),
            rows=[(month, count, _count(count)) for month, count in months],
            empty_text=_("No inquiries in the last 12 months."),
        ),
        bar_chart(
            slug="inquiries-status",
            title=_("Inquiries by outcome"),
            description=_("All inquiries by status: %(list)s.")
            % {"list": "; ".join(f"{label}: {count}" for _value, label, count in by_status)},
            label_heading=_("Status"),
            value_heading=_("Inquiries"),
            rows=[(label, count, _count(count)) for _value, label, count in by_status],
            empty_text=_("No inquiries yet."),
        ),
    ]
    return render(
        request,
        "proposals/dashboard.html",
        {
            "supply_charts": charts,
            "inquiry_charts": inquiry_charts,
            "supply_count": totals.count,
            "supply_area": area_short(totals.area_m2) if totals.area_m2 else "",
            "demo_sites": totals.demo,
            "inquiry_total": inquiry_total,
            "demo_inquiries": dashboard.demo_inquiry_count() if inquiry_total else 0,
            "median": age_text(first_offer.median) if first_offer.median is not None else "",
            "median_count": first_offer.count,
            "unmet_count": unmet.count,
            "not_matched_count": unmet.not_matched,
            "unmet": [
                {"inquiry": inquiry, "summary": requirement_summary(inquiry)}
                for inquiry in unmet.latest
            ],
            "empty_searches": empty_searches,
            "empty_search_days": dashboard.EMPTY_SEARCH_DAYS,
            "time_zone": timezone.get_current_timezone_name(),
        },
    )
