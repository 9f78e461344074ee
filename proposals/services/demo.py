"""Demo inquiries: a year of fictitious, clearly labelled inquiries for the demo install, so
the inbox, the matching, the offers and the dashboard have something to show.

Every demo inquiry
- names a company "Demo – …", a placeholder person (Erika Mustermann, John Doe, Jan
  Kowalski, Zhang San …) and an address at example.com / example.org (reserved for
  documentation, RFC 2606), no phone number;
- says in its message and on its timeline that it is demo data, not a real inquiry;
- has `Inquiry.is_demo` set (shown as a "demo data" badge in the inbox and on its page).

Requirement profiles follow a few investor types seen in the region (logistics on the
motorways, production with rail sidings, port-bound business on the Rhine and the canals,
offices near stations and universities, the rare very large plot nobody can offer), with
plausible sizes, budgets and distances. Received times spread over the last twelve months;
the older an inquiry, the further along the workflow it is: offers sent after a realistic
response time (a median of about a day and a half), links opened, sites answered, won,
lost or closed. Offers propose the best-matching published sites, with the matching's
verdicts; no PDF is rendered (staff can render one). Match counts are refreshed through
`inquiry_match_count_refresh`.

Deterministic: the same seed, reference data, sites, staff and `now` give the same
inquiries (offer-link tokens excepted: they are secrets, always random)."""

from __future__ import annotations

import datetime
import math
import random
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.gis.geos import MultiPolygon
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext

from accounts.models import User
from geodata.models import Municipality
from properties.models import Site

from ..matching import inquiry_matches
from ..models import Inquiry, InquiryEvent, Offer, OfferLink, OfferSite
from .matching import inquiry_match_count_refresh
from .offers import offer_default_texts

DEMO_COMPANY_PREFIX = "Demo – "
DEMO_EMAIL_DOMAINS = ("example.com", "example.org")
DEFAULT_COUNT = 120
DEFAULT_SEED = 42
DAYS_BACK = 365
LINK_DAYS = 30
OFFERED_SITES_MAX = 3

Kind = Site.Kind
Status = Inquiry.Status
Category = Site.PlanningCategory

# Inland ports (AGS): where port-bound investors look.
PORT_MUNICIPALITIES = (
    "05112000",  # Duisburg
    "05913000",  # Dortmund
    "05513000",  # Gelsenkirchen
    "05915000",  # Hamm
    "05916000",  # Herne
    "05170048",  # Wesel
)
UNIVERSITY_CITIES = ("05911000", "05113000", "05913000", "05112000")  # Bochum, Essen, Do, DU

# Placeholder names by market, with the legal forms companies there have: conventional
# "nobody" names (Mustermann, Doe, Kowalski, Zhang San …), never a real person's.
MARKETS = (
    ("de", ("Erika Mustermann", "Max Mustermann", "Maria Musterfrau", "Hans Beispiel"), 5),
    ("en", ("John Doe", "Jane Doe", "Richard Roe"), 3),
    ("nl", ("Jan Jansen", "Piet Pietersen"), 1),
    ("pl", ("Jan Kowalski", "Anna Nowak"), 1),
    ("tr", ("Ali Veli", "Ayşe Fatma"), 1),
    ("cn", ("Zhang San", "Li Si"), 1),
)
LEGAL_FORMS = {
    "de": ("GmbH", "GmbH & Co. KG", "AG"),
    "en": ("Ltd", "Inc.", "LLC"),
    "nl": ("B.V.",),
    "pl": ("Sp. z o.o.",),
    "tr": ("A.Ş.",),
    "cn": ("Co., Ltd.",),
}
COMPANY_WORDS = (
    "Nordwind",
    "Kranich",
    "Lindenhof",
    "Blauberg",
    "Sternfeld",
    "Rabenstein",
    "Eichental",
    "Silbermöwe",
    "Falkenhorst",
    "Morgentau",
    "Westerkamp",
    "Grünspan",
)
# The newest inquiries came in within the last two days: some are still new.
RECENT_SHARE = 0.04
RECENT_HOURS = 40


@dataclass(frozen=True)
class InvestorType:
    """A kind of investor: what they look for, in ranges the generator draws from."""

    key: str
    weight: float
    industries: tuple[str, ...]
    company_word: str  # the business in the company's name
    kinds: tuple[tuple[str, ...], ...]  # alternatives
    area_m2: tuple[float, float]  # the wanted minimum is drawn log-uniformly from this
    area_spread: tuple[float, float]  # maximum = minimum × this (None-like when 0)
    categories: tuple[tuple[str, ...], ...]
    budget: tuple[float, float] | None  # €/m²
    junction_km: tuple[float, float] | None = None
    station_km: tuple[float, float] | None = None
    university_km: tuple[float, float] | None = None
    port_km: tuple[float, float] | None = None
    airport_km: tuple[float, float] | None = None
    rail_siding_share: float = 0.0
    port_access_share: float = 0.0
    places: tuple[str, ...] = ()  # preferred AGS (else by population)
    jobs: tuple[int, int] = (10, 100)
    needs_en: str = ""
    needs_de: str = ""


INVESTOR_TYPES = (
    InvestorType(
        key="logistics",
        weight=0.24,
        industries=("Logistics", "Contract logistics", "E-commerce fulfilment"),
        company_word="Logistics",
        kinds=((Kind.PLOT,), (Kind.PLOT, Kind.LOGISTICS), (Kind.LOGISTICS,)),
        area_m2=(20_000, 120_000),
        area_spread=(1.5, 3.0),
        categories=((Category.GE, Category.GI), (Category.GI,), (Category.GE,)),
        budget=(55, 110),
        junction_km=(2, 8),
        jobs=(60, 450),
        needs_en="a distribution centre with direct motorway access",
        needs_de="ein Distributionszentrum mit direkter Autobahnanbindung",
    ),
    InvestorType(
        key="production",
        weight=0.20,
        industries=("Automotive supplier", "Metal processing", "Food production", "Chemicals"),
        company_word="Industries",
        kinds=((Kind.PLOT,), (Kind.PLOT, Kind.HALL)),
        area_m2=(10_000, 80_000),
        area_spread=(1.5, 2.5),
        categories=((Category.GI,), (Category.GE, Category.GI)),
        budget=(45, 90),
        junction_km=(3, 12),
        rail_siding_share=0.25,
        jobs=(40, 350),
        needs_en="a production site with room to grow",
        needs_de="einen Produktionsstandort mit Erweiterungsflächen",
    ),
    InvestorType(
        key="office",
        weight=0.15,
        industries=("IT services", "Engineering consultancy", "Shared service centre"),
        company_word="Solutions",
        kinds=((Kind.OFFICE,),),
        area_m2=(400, 4_000),
        area_spread=(1.3, 2.0),
        categories=((), (Category.MI, Category.GE)),
        budget=(1_500, 2_600),
        station_km=(0.5, 2),
        university_km=(2, 8),
        jobs=(20, 250),
        needs_en="office space close to public transport",
        needs_de="Büroflächen mit guter ÖPNV-Anbindung",
    ),
    InvestorType(
        key="workshop",
        weight=0.10,
        industries=("Light production", "Service workshop", "Wholesale"),
        company_word="Technik",
        kinds=((Kind.HALL,), (Kind.HALL, Kind.MIXED)),
        area_m2=(800, 6_000),
        area_spread=(1.3, 2.0),
        categories=((Category.GE, Category.GI), (Category.GE,)),
        budget=(450, 850),
        junction_km=(5, 15),
        jobs=(10, 80),
        needs_en="a hall with offices for production and storage",
        needs_de="eine Halle mit Büroanteil für Fertigung und Lager",
    ),
    InvestorType(
        key="port",
        weight=0.08,
        industries=("Port logistics", "Bulk goods handling", "Recycling"),
        company_word="Port Services",
        kinds=((Kind.PLOT,),),
        area_m2=(20_000, 100_000),
        area_spread=(1.3, 2.0),
        categories=((Category.GI,),),
        budget=(40, 80),
        port_km=(1, 5),
        port_access_share=0.6,
        rail_siding_share=0.3,
        places=PORT_MUNICIPALITIES,
        jobs=(20, 150),
        needs_en="a waterside plot for trimodal handling",
        needs_de="eine Fläche am Wasser für trimodalen Umschlag",
    ),
    InvestorType(
        key="research",
        weight=0.08,
        industries=("Life sciences", "Battery research", "Hydrogen technology"),
        company_word="Labs",
        kinds=((Kind.OFFICE, Kind.HALL), (Kind.MIXED,), (Kind.HALL,)),
        area_m2=(600, 3_500),
        area_spread=(1.3, 2.0),
        categories=((), (Category.GE, Category.SO)),
        budget=None,
        university_km=(1, 5),
        places=UNIVERSITY_CITIES,
        jobs=(15, 120),
        needs_en="laboratory and office space near a university",
        needs_de="Labor- und Büroflächen in Hochschulnähe",
    ),
    InvestorType(
        key="trade",
        weight=0.10,
        industries=("Craft business", "Building contractor", "Car dealership"),
        company_word="Handel",
        kinds=((Kind.PLOT,),),
        area_m2=(1_500, 9_000),
        area_spread=(1.3, 2.5),
        categories=((Category.GE,), (Category.GE, Category.MI)),
        budget=(60, 150),
        jobs=(5, 40),
        needs_en="a small commercial plot",
        needs_de="ein kleines Gewerbegrundstück",
    ),
    InvestorType(
        key="large_industry",
        weight=0.05,
        industries=("Battery cell production", "Data centre", "Semiconductor packaging"),
        company_word="Gigafactory",
        kinds=((Kind.PLOT,),),
        area_m2=(250_000, 600_000),
        area_spread=(1.2, 1.6),
        categories=((Category.GI,), (Category.GI, Category.SO)),
        budget=None,
        junction_km=(3, 10),
        rail_siding_share=0.5,
        jobs=(300, 2_000),
        needs_en="a very large industrial plot with a power grid connection",
        needs_de="eine sehr große Industriefläche mit Netzanschluss",
    ),
)

MESSAGE_EN = (
    "Demo data – not a real inquiry. We are looking for {needs} in the Ruhr area ({industry}, "
    "about {jobs} jobs) and would welcome a proposal."
)
MESSAGE_DE = (
    "Demodaten – keine echte Anfrage. Wir suchen {needs} im Ruhrgebiet ({industry}, rund "
    "{jobs} Arbeitsplätze) und freuen uns über ein Angebot."
)
COMMENTS = {
    "en": {
        OfferSite.Response.INTERESTED: "Demo comment: fits well; please send the soil survey.",
        OfferSite.Response.NOT_FOR_US: "Demo comment: too far from the motorway for us.",
    },
    "de": {
        OfferSite.Response.INTERESTED: "Demo-Kommentar: passt gut, bitte Bodengutachten senden.",
        OfferSite.Response.NOT_FOR_US: "Demo-Kommentar: Für uns zu weit von der Autobahn.",
    },
}


@transaction.atomic
def inquiries_delete_demo() -> int:
    """Deletes every demo inquiry with its timeline, offers and links. Returns how many."""
    _total, by_model = Inquiry.objects.demo().delete()
    return by_model.get(Inquiry._meta.label, 0)


# --- drawing ----------------------------------------------------------------------------


def _weighted(rng: random.Random, items: list[Any], weights: list[float]) -> Any:
    return rng.choices(items, weights=weights, k=1)[0]


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _lognormal_hours(
    rng: random.Random, median_h: float, sigma: float, lo: float, hi: float
) -> datetime.timedelta:
    """A duration around `median_h` hours (log-normal), kept within [lo, hi] hours."""
    return datetime.timedelta(hours=min(hi, max(lo, rng.lognormvariate(math.log(median_h), sigma))))


def _round_area(m2: float) -> float:
    step = 1_000 if m2 >= 10_000 else 100
    return float(max(step, round(m2 / step) * step))


def _km(rng: random.Random, bounds: tuple[float, float] | None) -> float | None:
    if bounds is None:
        return None
    return float(round(rng.uniform(*bounds) * 2) / 2 * 1000)  # half-kilometre steps, in m


@dataclass
class _Context:
    rng: random.Random
    now: datetime.datetime
    municipalities: list[Municipality]
    by_ags: dict[str, Municipality]
    staff: list[User]
    system_language: str


def _places(ctx: _Context, kind: InvestorType) -> list[Municipality]:
    rng = ctx.rng
    pool = [ctx.by_ags[ags] for ags in kind.places if ags in ctx.by_ags]
    wanted = _weighted(rng, [0, 1, 2, 3], [0.25, 0.45, 0.2, 0.1])
    if pool:
        wanted = max(1, wanted)
    if not wanted:
        return []
    candidates = pool or ctx.municipalities
    weights = [math.sqrt(m.population or 10_000) for m in candidates]
    chosen: list[Municipality] = []
    for _attempt in range(wanted * 4):
        municipality = _weighted(rng, candidates, weights)
        if municipality not in chosen:
            chosen.append(municipality)
        if len(chosen) == wanted:
            break
    return chosen


def _received_at(ctx: _Context, index: int, count: int) -> datetime.datetime:
    """Spread over the last year, a little denser lately (demand grows), in office hours for
    the most part (local time)."""
    rng = ctx.rng
    recent = max(1, round(count * RECENT_SHARE))
    if index >= count - recent:
        hours_ago = RECENT_HOURS * (count - index - rng.random()) / recent
        return ctx.now - datetime.timedelta(hours=max(0.5, hours_ago))
    share = (index + rng.random()) / (count - recent)
    days_ago = 2 + (DAYS_BACK - 2) * (1 - share**0.85)
    day = timezone.localdate(ctx.now) - datetime.timedelta(days=int(days_ago))
    hour = _weighted(rng, list(range(24)), [1 if h < 7 or h > 19 else 8 for h in range(24)])
    moment = datetime.datetime.combine(day, datetime.time(hour, rng.randrange(60)))
    received = timezone.make_aware(moment)
    return min(received, ctx.now - datetime.timedelta(minutes=30 + rng.randrange(60)))


def _profile(ctx: _Context, kind: InvestorType, language: str) -> dict[str, Any]:
    rng = ctx.rng
    kinds = list(rng.choice(kind.kinds))
    low = _round_area(_log_uniform(rng, *kind.area_m2))
    area_max = None
    if rng.random() < 0.8:
        area_max = _round_area(low * rng.uniform(*kind.area_spread))
    budget = None
    if kind.budget is not None and rng.random() < 0.6:
        budget = Decimal(round(rng.uniform(*kind.budget) / 5) * 5).quantize(Decimal("0.01"))
    available_by = None
    if rng.random() < 0.4:
        available_by = timezone.localdate(ctx.now) + datetime.timedelta(days=rng.randrange(60, 540))
    jobs = int(round(rng.uniform(*kind.jobs), -1 if kind.jobs[1] > 100 else 0))
    industry = rng.choice(kind.industries)
    needs = kind.needs_de if language == "de" else kind.needs_en
    template = MESSAGE_DE if language == "de" else MESSAGE_EN
    return {
        "kinds": kinds,
        "area_min_m2": low,
        "area_max_m2": area_max,
        "planning_categories": list(rng.choice(kind.categories)),
        "budget_max_eur_m2": budget,
        "available_by": available_by,
        "max_distance_junction_m": _km(rng, kind.junction_km),
        "max_distance_station_m": _km(rng, kind.station_km),
        "max_distance_university_m": _km(rng, kind.university_km) if rng.random() < 0.6 else None,
        "max_distance_port_m": _km(rng, kind.port_km),
        "max_distance_airport_m": _km(rng, kind.airport_km),
        "needs_rail_siding": rng.random() < kind.rail_siding_share,
        "needs_port_access": rng.random() < kind.port_access_share,
        "jobs_planned": jobs,
        "industry": industry,
        "message": template.format(needs=needs, industry=industry, jobs=jobs),
    }


def _source_query(profile: dict[str, Any], places: list[Municipality]) -> str:
    """The search an investor might have come from, in the search page's parameters."""
    parts = [f"kind={kind}" for kind in profile["kinds"]]
    parts.append(f"area_min={int(profile['area_min_m2'])}")
    parts += [f"municipality={m.ags}" for m in places]
    if profile["max_distance_junction_m"]:
        parts.append(f"max_distance_junction_m={int(profile['max_distance_junction_m'])}")
    return "&".join(parts)


def _area_of_interest(ctx: _Context, places: list[Municipality]) -> MultiPolygon | None:
    """Now and then a circle drawn around a city instead of whole municipalities."""
    centre = places[0].centre if places else None
    if centre is None or ctx.rng.random() > 0.15:
        return None
    circle = centre.buffer(ctx.rng.choice((4_000, 6_000, 8_000)), quadsegs=8)
    return MultiPolygon(circle, srid=centre.srid)


# --- one inquiry's story ------------------------------------------------------------------


class _Timeline:
    def __init__(self, inquiry: Inquiry, now: datetime.datetime) -> None:
        self.inquiry = inquiry
        self.now = now
        self.events: list[InquiryEvent] = []

    def add(
        self,
        kind: str,
        at: datetime.datetime,
        *,
        actor: User | None = None,
        text: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        self.events.append(
            InquiryEvent(
                inquiry=self.inquiry,
                kind=kind,
                at=min(at, self.now),  # nothing happens in the future
                actor=actor,
                text=text,
                data=data or {},
            )
        )

    def status(
        self, at: datetime.datetime, old: str, new: str, actor: User | None, text: str = ""
    ) -> None:
        self.add(
            InquiryEvent.Kind.STATUS, at, actor=actor, text=text, data={"from": old, "to": new}
        )


def _create_inquiry(ctx: _Context, index: int, count: int) -> tuple[Inquiry, _Timeline]:
    rng = ctx.rng
    kind = _weighted(rng, list(INVESTOR_TYPES), [t.weight for t in INVESTOR_TYPES])
    market, names, _weight = _weighted(rng, list(MARKETS), [m[2] for m in MARKETS])
    contact = rng.choice(names)
    language = "de" if market == "de" and rng.random() < 0.85 else "en"
    channel = Inquiry.Channel.WEB if rng.random() < 0.75 else Inquiry.Channel.STAFF
    received = _received_at(ctx, index, count)
    places = _places(ctx, kind)
    profile = _profile(ctx, kind, language)
    company = (
        f"{DEMO_COMPANY_PREFIX}{rng.choice(COMPANY_WORDS)} {kind.company_word} "
        f"{rng.choice(LEGAL_FORMS[market])}"
    )
    number = index + 1
    email = f"demo-{number:03d}.{slugify(contact)}@{DEMO_EMAIL_DOMAINS[number % 2]}"
    area = _area_of_interest(ctx, places)
    inquiry = Inquiry.objects.create(
        is_demo=True,
        status=Status.NEW,
        channel=channel,
        language=language,
        received_at=received,
        company=company,
        contact_name=contact,
        email=email,
        phone="",
        privacy_accepted_at=received if channel == Inquiry.Channel.WEB else None,
        source_query=_source_query(profile, places)
        if channel == Inquiry.Channel.WEB and rng.random() < 0.6
        else "",
        area_of_interest=area,
        **profile,
    )
    inquiry.municipalities.set([] if area is not None else places)
    timeline = _Timeline(inquiry, ctx.now)
    with translation.override(ctx.system_language):
        received_text = (
            gettext("Received through the inquiry form.")
            if channel == Inquiry.Channel.WEB
            else gettext("Entered by staff (phone, e-mail, fair)")
        )
        demo_text = gettext("Demo data: generated, not a real inquiry.")
    timeline.add(
        InquiryEvent.Kind.RECEIVED,
        received,
        text=f"{received_text} {demo_text}",
        data={"channel": channel},
    )
    if channel == Inquiry.Channel.WEB:
        timeline.add(
            InquiryEvent.Kind.MAIL_SENT,
            received + datetime.timedelta(minutes=1),
            text=email,
            data={"mail": "confirmation", "to": email},
        )
    return inquiry, timeline


def _offer(
    ctx: _Context,
    inquiry: Inquiry,
    timeline: _Timeline,
    staff: User | None,
    picked_up: datetime.datetime,
    sent: datetime.datetime,
    outcome: str | None,
) -> None:
    """An offer of the best-matching sites, sent at `sent` through a link, opened and
    answered according to the `outcome` (None: still open)."""
    rng = ctx.rng
    with translation.override(inquiry.language):
        ranked = inquiry_matches(inquiry, limit=OFFERED_SITES_MAX).ranked
    ranked = ranked[: rng.randint(1, OFFERED_SITES_MAX)]
    title, introduction = offer_default_texts(inquiry, inquiry.language)
    created = max(picked_up, sent - _lognormal_hours(rng, 2, 0.6, 0.25, 20))
    offer = Offer.objects.create(
        inquiry=inquiry,
        title=title,
        language=inquiry.language,
        introduction=introduction,
        created_by=staff,
        created_at=created,
        sent_at=sent,
    )
    items = OfferSite.objects.bulk_create(
        OfferSite(offer=offer, site=match.site, position=position, match=match.as_json())
        for position, match in enumerate(ranked, start=1)
    )
    timeline.add(
        InquiryEvent.Kind.OFFER_CREATED,
        created,
        actor=staff,
        text=title,
        data={
            "offer": offer.pk,
            "sites": [m.site.pk for m in ranked],
            "language": inquiry.language,
        },
    )
    link = OfferLink(
        offer=offer,
        token=secrets.token_urlsafe(32),
        recipient_email=inquiry.email,
        created_by=staff,
        created_at=sent,
        expires_at=sent + datetime.timedelta(days=LINK_DAYS),
    )
    opened = outcome is not None or rng.random() < 0.8
    first_open = sent + _lognormal_hours(rng, 5, 1.0, 0.1, 24 * 6)
    if opened and first_open < ctx.now:
        link.first_opened_at = first_open
        link.open_count = rng.randint(1, 6)
        later = first_open + _lognormal_hours(rng, 30, 1.0, 0.1, 24 * 20)
        link.last_opened_at = min(later, ctx.now) if link.open_count > 1 else first_open
    link.save()
    timeline.add(
        InquiryEvent.Kind.LINK_CREATED,
        sent,
        actor=staff,
        text=inquiry.email,
        data={"offer": offer.pk, "link": link.pk, "expires_at": link.expires_at, "sent": True},
    )
    timeline.add(
        InquiryEvent.Kind.MAIL_SENT,
        sent + datetime.timedelta(minutes=1),
        text=inquiry.email,
        data={"offer": offer.pk, "link": link.pk, "mail": "offer_link"},
    )
    if link.first_opened_at is None:
        return
    timeline.add(
        InquiryEvent.Kind.LINK_OPENED,
        link.first_opened_at,
        data={"offer": offer.pk, "link": link.pk, "count": 1},
    )
    # The investor answers: interested in the first site when won, not for them when lost.
    for position, item in enumerate(items):
        if outcome == Status.WON and position == 0:
            response = OfferSite.Response.INTERESTED
        elif outcome == Status.LOST or (outcome is None and rng.random() < 0.3):
            response = OfferSite.Response.NOT_FOR_US
        elif rng.random() < 0.3:
            response = OfferSite.Response.INTERESTED
        else:
            continue
        answered = link.first_opened_at + _lognormal_hours(rng, 20, 0.8, 0.2, 24 * 10)
        if answered >= ctx.now:
            continue
        comment = COMMENTS[inquiry.language][response] if rng.random() < 0.5 else ""
        item.response, item.response_comment, item.responded_at = response, comment, answered
        item.save(update_fields=["response", "response_comment", "responded_at"])
        timeline.add(
            InquiryEvent.Kind.RESPONSE,
            answered,
            text=comment,
            data={
                "offer": offer.pk,
                "link": link.pk,
                "site": item.site_id,
                "site_title": item.site.title,
                "response": response,
                "previous": "",
            },
        )


def _story(
    ctx: _Context, inquiry: Inquiry, timeline: _Timeline, matched: int, *, newest: bool
) -> None:
    """Moves the inquiry along the workflow as far as its age allows (the newest one has
    not been picked up yet)."""
    rng = ctx.rng
    staff = rng.choice(ctx.staff) if ctx.staff else None
    received = inquiry.received_at
    age = ctx.now - received
    # Staff pick an inquiry up within hours, send an offer after a day or two (longer when
    # the profile is hard to serve), and hear back after a few weeks.
    picked_up = received + _lognormal_hours(rng, 3, 0.9, 0.2, 72)
    response_time = _lognormal_hours(rng, 36 if matched else 120, 0.8, 2, 24 * 21)
    decision_time = _lognormal_hours(rng, 24 * 25, 0.7, 24 * 2, 24 * 120)
    with translation.override(ctx.system_language):
        closing_note = gettext("Demo note: no suitable site in the region at present.")
        call_note = gettext("Demo note: phoned the investor, requirements confirmed.")

    if newest or picked_up >= ctx.now or (age < datetime.timedelta(days=1) and rng.random() < 0.6):
        return  # still new
    if staff is not None:
        inquiry.assignee = staff
        timeline.add(
            InquiryEvent.Kind.ASSIGNED,
            picked_up,
            actor=staff,
            data={"from": None, "to": staff.get_username()},
        )
    inquiry.status = Status.IN_PROGRESS
    timeline.status(picked_up, Status.NEW, Status.IN_PROGRESS, staff)
    if rng.random() < 0.35:
        timeline.add(
            InquiryEvent.Kind.NOTE,
            picked_up + datetime.timedelta(minutes=rng.randrange(20, 600)),
            actor=staff,
            text=call_note,
        )

    sent = max(received + response_time, picked_up + datetime.timedelta(minutes=30))
    if not matched or sent >= ctx.now:
        # Nothing to offer: after a while staff close it (the unmet demand).
        closed = received + datetime.timedelta(days=rng.uniform(7, 30))
        if not matched and closed < ctx.now and age > datetime.timedelta(days=10):
            inquiry.status, inquiry.closed_at = Status.CLOSED, closed
            timeline.status(closed, Status.IN_PROGRESS, Status.CLOSED, staff, closing_note)
        return

    decided = sent + decision_time
    outcome: str | None = None
    if decided < ctx.now:
        outcome = _weighted(rng, [Status.WON, Status.LOST, Status.CLOSED], [0.3, 0.5, 0.2])
    _offer(ctx, inquiry, timeline, staff, picked_up, sent, outcome)
    inquiry.first_offer_sent_at = sent
    inquiry.status = Status.OFFER_SENT
    timeline.status(sent, Status.IN_PROGRESS, Status.OFFER_SENT, staff)
    if outcome is not None:
        inquiry.status, inquiry.closed_at = outcome, decided
        timeline.status(decided, Status.OFFER_SENT, outcome, staff)


# --- the service ------------------------------------------------------------------------


@transaction.atomic
def inquiries_generate_demo(
    *,
    count: int = DEFAULT_COUNT,
    seed: int = DEFAULT_SEED,
    replace: bool = False,
    if_empty: bool = False,
    now: datetime.datetime | None = None,
) -> int:
    """Generates `count` demo inquiries (see the module docstring); with `replace` the
    existing demo inquiries are deleted first, with `if_empty` nothing happens while any
    exist. Returns how many were created. Needs the reference data; offers need published
    sites (without any, every inquiry stays unmet)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    if replace and if_empty:
        raise ValueError("replace and if_empty exclude each other")
    if if_empty and Inquiry.objects.demo().exists():
        return 0
    if replace:
        inquiries_delete_demo()
    municipalities = list(Municipality.objects.order_by("ags"))
    if not municipalities:
        raise RuntimeError("no municipalities loaded: run load_reference_data first")
    ctx = _Context(
        rng=random.Random(seed),  # noqa: S311 -- reproducible by seed; nothing secret
        now=now or timezone.now(),
        municipalities=municipalities,
        by_ags={m.ags: m for m in municipalities},
        staff=list(
            User.objects.filter(
                Q(role=User.Role.STAFF) | Q(is_superuser=True), is_active=True
            ).order_by("pk")
        ),
        system_language=translation.get_language() or "en",
    )
    for index in range(count):
        inquiry, timeline = _create_inquiry(ctx, index, count)
        matched = inquiry_match_count_refresh(inquiry=inquiry)
        _story(ctx, inquiry, timeline, matched, newest=index == count - 1)
        inquiry.save(
            update_fields=["status", "assignee", "first_offer_sent_at", "closed_at", "updated_at"]
        )
        InquiryEvent.objects.bulk_create(sorted(timeline.events, key=lambda e: e.at))
    return count
