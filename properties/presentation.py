"""A site's facts, distances and planning information in words, for the active language.

Shared by the detail page and the exposé PDF, so both say exactly the same thing.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from sitefinder import l10n
from sitefinder.l10n import NBSP_HA, NBSP_M2, area_short, euros, km, km_number, m2, per_unit

from .models import Site
from .nearest import NearestFeature

# What each land-use category allows (BauNVO), in one plain sentence for investors.
PLANNING_CATEGORY_EXPLANATIONS: dict[str, Promise] = {
    Site.PlanningCategory.GI: gettext_lazy(
        "Industrial area (§ 9 BauNVO): for industrial plants, including noisy production and "
        "round-the-clock operations that would not be allowed elsewhere; no housing."
    ),
    Site.PlanningCategory.GE: gettext_lazy(
        "Commercial area (§ 8 BauNVO): for businesses that do not cause significant nuisance, "
        "such as workshops, light production, logistics, warehouses and offices."
    ),
    Site.PlanningCategory.MI: gettext_lazy(
        "Mixed area (§ 6 BauNVO): housing alongside businesses that do not significantly "
        "disturb it, such as offices, shops, crafts and services; no noisy production."
    ),
    Site.PlanningCategory.SO: gettext_lazy(
        "Special area (§§ 10–11 BauNVO): reserved for the particular use the local plan names "
        "(for example a port, energy or retail use); your project must match that use."
    ),
}

# What the planning status means for the time to a building permit.
BPLAN_STATUS_EXPLANATIONS: dict[str, Promise] = {
    Site.BPlanStatus.BINDING: gettext_lazy(
        "A legally binding local plan is in force: a project that complies with it can apply "
        "for a building permit straight away, usually granted within a few months."
    ),
    Site.BPlanStatus.IN_PREPARATION: gettext_lazy(
        "A local plan is being drawn up: a permit is usually possible once the plan is adopted, "
        "often in one to two years, or earlier once the plan is mature enough (§ 33 BauGB)."
    ),
    Site.BPlanStatus.FNP_ONLY: gettext_lazy(
        "Only the preparatory land-use plan (FNP) designates the site for business: a binding "
        "local plan has to be made first, which typically takes two years or more."
    ),
    Site.BPlanStatus.SECTION_34: gettext_lazy(
        "There is no local plan, but the site lies within a built-up area: a project is "
        "permitted if it fits in with its surroundings (§ 34 BauGB), decided in the permit "
        "procedure itself."
    ),
    Site.BPlanStatus.SECTION_35: gettext_lazy(
        "There is no local plan and the site lies in the outer area: only privileged projects "
        "are permitted (§ 35 BauGB); commercial building usually needs a local plan first."
    ),
}

RESTRICTION_CLASS_EXPLANATIONS: dict[str, Promise] = {
    Site.RestrictionClass.NONE: gettext_lazy(
        "No restrictions are known that would limit building on or using the site."
    ),
    Site.RestrictionClass.LIGHT: gettext_lazy(
        "Restrictions are known but manageable: expect surveys or conditions in the permit, "
        "not an obstacle to typical commercial use."
    ),
    Site.RestrictionClass.SEVERE: gettext_lazy(
        "Significant restrictions are known: expect extra cost and time for remediation, "
        "protective measures or permits; ask for the reports early."
    ),
}

RESTRICTION_EXPLANATIONS: dict[str, Promise] = {
    Site.Restriction.CONTAMINATION: gettext_lazy(
        "Soil or groundwater is or may be polluted by former use: a soil survey and possibly "
        "remediation are needed before building."
    ),
    Site.Restriction.MINING: gettext_lazy(
        "Former coal mining below the site can cause subsidence or old shafts: foundations "
        "need a mining survey and may have to be adapted."
    ),
    Site.Restriction.NOISE: gettext_lazy(
        "Noise limits apply: nearby traffic or industry limits noise-sensitive uses, or the "
        "site's own noise is capped to protect its neighbours."
    ),
    Site.Restriction.SPECIES: gettext_lazy(
        "Protected animals or plants may live on the site: a species survey is required and "
        "clearing may be limited to certain seasons."
    ),
    Site.Restriction.FLOODING: gettext_lazy(
        "The site lies in an area that can be flooded: buildings need a flood-adapted design "
        "and possibly a permit under water law."
    ),
    Site.Restriction.MONUMENT: gettext_lazy(
        "Buildings or parts of the site are listed: changes need the approval of the "
        "monument authority."
    ),
}

# Colours of the site kinds on the map and in the legend; distinct from the layer colours
# in geodata.layers and readable on a white background (contrast >= 3:1 for graphics).
SITE_KIND_COLOURS: dict[str, str] = {
    Site.Kind.PLOT: "#c2185b",
    Site.Kind.OFFICE: "#1565c0",
    Site.Kind.HALL: "#6d4c41",
    Site.Kind.LOGISTICS: "#558b2f",
    Site.Kind.MIXED: "#546e7a",
}


def area_gross(value: float) -> str:
    """The headline area of a site, labelled: "4.3 ha gross"."""
    return _("%(area)s gross") % {"area": area_short(value)}


def area_net(value: float) -> str:
    """The net area (net building land), labelled: "3.9 ha net"."""
    return _("%(area)s net") % {"area": area_short(value)}


def area_pair(site: Site) -> str:
    """The one way a site's area is told in lists and documents: the gross area as the
    headline, the net area beside it when stated, both labelled ("4.3 ha gross · 3.9 ha
    net"). Search filters compare the gross area; matching compares the net area where
    stated (and says so)."""
    text = area_gross(site.gross_area_m2)
    if site.net_area_m2 is not None:
        text += " · " + area_net(site.net_area_m2)
    return text


def area_range(low: float | None, high: float | None) -> str:
    """A wanted range of area: "5.8–9.8 ha", "700–900 m²", "5,000 m² – 2 ha", "at least
    10 ha", "at most 2 ha"; "" when neither end is given."""
    if low is not None and high is not None:
        if low >= 10_000 and high >= 10_000:
            return f"{area_short(low).removesuffix(NBSP_HA)}–{area_short(high)}"
        if low < 10_000 and high < 10_000:
            return f"{area_short(low).removesuffix(NBSP_M2)}–{area_short(high)}"
        return f"{area_short(low)} – {area_short(high)}"
    if low is not None:
        return _("at least %(area)s") % {"area": area_short(low)}
    if high is not None:
        return _("at most %(area)s") % {"area": area_short(high)}
    return ""


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _date(value) -> str:
    return l10n.date(value)


# The unit of each offer type's comparable figure.
OFFER_UNITS: dict[str, Promise | str] = {
    Site.OfferType.SALE: gettext_lazy("€/m²"),
    Site.OfferType.RENT: gettext_lazy("€/m²/month"),
    Site.OfferType.LEASEHOLD: gettext_lazy("€/m²/year"),
}
OFFER_FIGURES: dict[str, str] = {
    Site.OfferType.SALE: "price_eur_m2",
    Site.OfferType.RENT: "rent_eur_m2_month",
    Site.OfferType.LEASEHOLD: "ground_rent_eur_m2_year",
}


def offer_figure(site: Site, offer: str) -> str:
    """One offer type's comparable figure with its unit ("85.00 €/m²", "9.50 €/m²/month"),
    or "on request" / "not stated"."""
    value = getattr(site, OFFER_FIGURES[offer])
    if value is not None:
        return per_unit(value, str(OFFER_UNITS[offer]))
    return _("on request") if site.price_on_request else _("not stated")


def site_offer_types(site: Site) -> list[str]:
    """The site's offer types in the fixed order sale, rent, leasehold."""
    return [offer for offer in Site.OfferType.values if offer in (site.offer_types or [])]


def offer_types_text(offer_types: list[str]) -> str:
    """Offer types as words, in the fixed order sale, rent, leasehold: "Sale, Rent"."""
    labels = dict(Site.OfferType.choices)
    return ", ".join(str(labels[o]) for o in Site.OfferType.values if o in offer_types)


def site_price(site: Site) -> str:
    """The headline of what a site costs, the same in the list, the detail page, the exposé,
    the shortlist and the alert mails (static/js/map/format.js formatPrice writes the same):
    each offer type with its comparable figure, e.g. "Sale 85.00 €/m² · Leasehold 3.40
    €/m²/year", then "commission-free"."""
    labels = dict(Site.OfferType.choices)
    offers = site_offer_types(site)
    if not offers and site.price_eur_m2 is None:
        text = _("on request") if site.price_on_request else _("not stated")
    else:
        text = " · ".join(
            f"{labels[offer]} {offer_figure(site, offer)}" for offer in offers or ["sale"]
        )
        if site.price_on_request and all(
            getattr(site, OFFER_FIGURES[offer]) is not None for offer in offers
        ):
            text += " · " + _("on request")
    if site.commission_free:
        text += " · " + _("commission-free")
    return text


def site_price_rows(site: Site) -> list[tuple[str, str]]:
    """The price facts of the detail page and the exposé, one row per stated figure."""
    offers = site_offer_types(site)
    labels = dict(Site.OfferType.choices)
    rows: list[tuple[str, str]] = [
        (_("Offer type"), ", ".join(str(labels[o]) for o in offers) or _("not stated"))
    ]
    if Site.OfferType.SALE in offers:
        rows.append((_("Sale price"), offer_figure(site, Site.OfferType.SALE)))
        if site.price_total_eur is not None:
            rows.append((_("Total price"), euros(site.price_total_eur)))
    if Site.OfferType.RENT in offers:
        rows.append((_("Monthly rent"), offer_figure(site, Site.OfferType.RENT)))
    if Site.OfferType.LEASEHOLD in offers:
        rows.append((_("Ground rent (Erbbauzins)"), offer_figure(site, Site.OfferType.LEASEHOLD)))
    if site.service_charges_eur_m2_month is not None:
        charges = per_unit(site.service_charges_eur_m2_month, _("€/m²/month"))
        rows.append((_("Additional costs (Nebenkosten)"), charges))
    rows.append((_("Commission-free"), _yes_no(site.commission_free)))
    if site.price_negotiable:
        rows.append((_("Negotiable"), _("yes")))
    return rows


def restriction_notes(site: Site) -> str:
    """The partner's notes in the reader's language, or the German original labelled."""
    notes = site.translated("restriction_notes")
    if not notes.text:
        return "–"
    if notes.is_fallback:
        return f"{notes.text} ({_('original in German')})"
    return notes.text


def site_last_verified(site: Site) -> str:
    if site.last_verified_at:
        return _date(site.last_verified_at)
    return _("not yet verified")


def site_contact(site: Site) -> list[str]:
    return [part for part in (site.contact_name, site.contact_email, site.contact_phone) if part]


def site_facts(site: Site) -> list[dict]:
    """The site's facts in sections of (label, value) rows, formatted for the active language."""
    if site.is_divisible:
        if site.min_divisible_m2 or site.max_divisible_m2:
            divisible = _("yes, from %(min)s to %(max)s") % {
                "min": m2(site.min_divisible_m2),
                "max": m2(site.max_divisible_m2),
            }
        else:
            divisible = _("yes")
    else:
        divisible = _("no")

    restrictions = site.get_restriction_class_display()
    if site.restrictions:
        labels = dict(Site.Restriction.choices)
        restrictions += ": " + ", ".join(str(labels.get(r, r)) for r in site.restrictions)

    servicing = [
        str(label)
        for present, label in (
            (site.has_water, _("water")),
            (site.has_sewer, _("sewer")),
            (site.has_power, _("power")),
            (site.has_gas_heat, _("gas / district heat")),
        )
        if present
    ]

    return [
        {
            "key": "location",
            "title": _("Location"),
            "rows": [
                (_("Municipality"), site.municipality.name),
                (_("District"), site.municipality.district.name),
                (_("Address"), " ".join(p for p in (site.street, site.postcode) if p) or "–"),
            ],
        },
        {
            "key": "size",
            "title": _("Size"),
            "rows": [
                # One definition of the area everywhere (area_pair): the gross area as
                # the headline, the net area beside it when stated, both labelled.
                (_("Area"), area_pair(site)),
                (_("Divisible"), divisible),
            ],
        },
        {
            "key": "planning",
            "title": _("Planning"),
            "rows": [
                (_("Planning category"), site.get_planning_category_display()),
                (_("B-Plan status"), site.get_bplan_status_display()),
                (_("Restrictions"), restrictions),
                (_("Notes on restrictions"), restriction_notes(site)),
                (_("Ownership"), site.get_ownership_display()),
            ],
        },
        {
            "key": "availability",
            "title": _("Availability and price"),
            "rows": [
                (
                    _("Available from"),
                    _date(site.available_from)
                    if site.available_from
                    else pgettext("available", "immediately"),
                ),
                *site_price_rows(site),
            ],
        },
        {
            "key": "infrastructure",
            "title": _("Infrastructure"),
            "rows": [
                (_("Servicing"), ", ".join(servicing) or _("none stated")),
                (_("Broadband"), site.get_broadband_display()),
                (_("Rail siding"), _yes_no(site.has_rail_siding)),
                (_("Port access"), _yes_no(site.has_port_access)),
            ],
        },
        {
            "key": "record",
            "title": _("Contact and record"),
            "rows": [
                (_("Contact"), " · ".join(site_contact(site)) or "–"),
                (_("First added"), _date(site.created_at)),
                (_("Last verified"), site_last_verified(site)),
            ],
        },
    ]


def planning_explanations(site: Site) -> list[dict]:
    """The planning category, B-Plan status, restriction class and each restriction, each
    with its label and one plain sentence on what it means for an investor."""
    labels = dict(Site.Restriction.choices)
    items = [
        {
            "term": _("Planning category"),
            "value": site.get_planning_category_display(),
            "text": str(PLANNING_CATEGORY_EXPLANATIONS.get(site.planning_category, "")),
        },
        {
            "term": _("B-Plan status"),
            "value": site.get_bplan_status_display(),
            "text": str(BPLAN_STATUS_EXPLANATIONS.get(site.bplan_status, "")),
        },
        {
            "term": _("Restrictions"),
            "value": site.get_restriction_class_display(),
            "text": str(RESTRICTION_CLASS_EXPLANATIONS.get(site.restriction_class, "")),
        },
    ]
    for restriction in site.restrictions:
        items.append(
            {
                "term": _("Restriction"),
                "value": str(labels.get(restriction, restriction)),
                "text": str(RESTRICTION_EXPLANATIONS.get(restriction, "")),
            }
        )
    return items


def distance_rows(nearest: list[NearestFeature]) -> list[dict]:
    """One row per stored distance: layer, nearest feature and distance, or a note that the
    layer has no data yet (never a misleading "far away"). Rows naming the same feature
    share a marker number (the station nearest may also be the nearest major station)."""
    markers: dict[int, int] = {}
    rows = []
    for entry in nearest:
        layer = entry.layer
        name = layer.name if layer is not None else entry.field
        if entry.max_category:
            name = _("%(layer)s (category 1–%(max)s)") % {
                "layer": name,
                "max": entry.max_category,
            }
        marker = None
        if entry.feature_id is not None:
            marker = markers.setdefault(entry.feature_id, len(markers) + 1)
        rows.append(
            {
                "field": entry.field,
                "layer": name,
                "colour": layer.colour if layer is not None else "",
                "loaded": entry.layer_loaded,
                "feature": entry.feature_name,
                "feature_id": entry.feature_id,
                "marker": marker,
                "distance_m": entry.distance_m,
                "distance_km": km_number(entry.distance_m),
                "distance": km(entry.distance_m),
            }
        )
    return rows
