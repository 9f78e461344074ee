from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MinValueValidator
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.models import PartnerOrganisation
from geodata.functions import AreaM2, PointOnSurface, TransformTo
from geodata.layers import DISTANCE_FIELDS
from geodata.models import STORAGE_SRID, Municipality

from .querysets import SiteQuerySet

# What a site's offer states (sale, rent, leasehold and their figures), in the order the
# forms, the admin and the API show it.
OFFER_FIELDS = (
    "offer_types",
    "price_eur_m2",
    "price_total_eur",
    "rent_eur_m2_month",
    "ground_rent_eur_m2_year",
    "service_charges_eur_m2_month",
    "commission_free",
)

# Partner-written text that may be given in more than one language. The columns hold the
# original, in German (required as before); `Site.translations` holds the other languages'
# versions a person wrote: {"en": {"title": ..., "description": ...}, "nl": {...}}.
TRANSLATABLE_FIELDS = ("title", "description", "restriction_notes")
ORIGINAL_LANGUAGE = "de"


@dataclass(frozen=True)
class TranslatedText:
    """A partner-written text for a reader: `text` is in `language`; `is_fallback` when the
    reader's language was not given and the original is shown instead (label it so)."""

    text: str
    language: str
    is_fallback: bool

    def __str__(self) -> str:
        return self.text


def translation_languages() -> list[str]:
    """The languages a partner may add beside the original."""
    return [code for code, _name in settings.LANGUAGES if code != ORIGINAL_LANGUAGE]


def clean_translations(value: object) -> dict[str, dict[str, str]]:
    """The translations as stored: known languages and fields only, texts stripped, empty
    ones dropped; anything else is a ValidationError naming the field."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationError({"translations": _("Expected an object of languages.")})
    languages = translation_languages()
    cleaned: dict[str, dict[str, str]] = {}
    for language, texts in value.items():
        if language not in languages:
            raise ValidationError(
                {"translations": _("Unknown language “%(language)s”.") % {"language": language}}
            )
        if not isinstance(texts, dict):
            raise ValidationError({"translations": _("Expected an object of texts.")})
        kept = {}
        for field, text in texts.items():
            if field not in TRANSLATABLE_FIELDS or not isinstance(text, str):
                raise ValidationError(
                    {"translations": _("Unknown field “%(field)s”.") % {"field": field}}
                )
            if field == "title" and len(text.strip()) > 200:
                raise ValidationError({"translations": _("A title has at most 200 characters.")})
            if text.strip():
                kept[field] = text.strip()
        if kept:
            cleaned[language] = kept
    return cleaned


class Site(models.Model):
    """A commercial plot (polygon) or premises (point or building footprint)."""

    class Kind(models.TextChoices):
        PLOT = "plot", _("Plot")
        OFFICE = "office", _("Office")
        HALL = "hall", _("Hall / production")
        LOGISTICS = "logistics", _("Logistics")
        MIXED = "mixed", _("Mixed use premises")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        PUBLISHED = "published", _("Published")
        RESERVED = "reserved", _("Reserved")
        SOLD = "sold", _("Sold")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class PlanningCategory(models.TextChoices):
        GI = "GI", _("GI – industrial area")
        GE = "GE", _("GE – commercial area")
        MI = "MI", _("MI – mixed area")
        SO = "SO", _("SO – special area")

    class BPlanStatus(models.TextChoices):
        BINDING = "binding", _("Binding B-Plan")
        IN_PREPARATION = "in_preparation", _("B-Plan in preparation")
        FNP_ONLY = "fnp_only", _("Designated in the FNP only")
        SECTION_34 = "section_34", _("No B-Plan; built-up area (§ 34 BauGB)")
        SECTION_35 = "section_35", _("No B-Plan; outer area (§ 35 BauGB)")

    class RestrictionClass(models.TextChoices):
        NONE = "none", _("No known restrictions")
        LIGHT = "light", _("Light restrictions")
        SEVERE = "severe", _("Severe restrictions")

    class Restriction(models.TextChoices):
        CONTAMINATION = "contamination", _("Contamination (Altlasten)")
        MINING = "mining", _("Mining damage")
        NOISE = "noise", _("Noise")
        SPECIES = "species", _("Protected species")
        FLOODING = "flooding", _("Flood risk")
        MONUMENT = "monument", _("Listed monument")

    class Ownership(models.TextChoices):
        # The distinctions municipalities use; migration 0007 read the former "public" as
        # municipal (the partners offering public land are the municipalities).
        MUNICIPAL = "municipal", _("Municipal")
        OTHER_PUBLIC = "other_public", _("Other public body")
        PRIVATE = "private", _("Private")
        MIXED = "mixed", _("Mixed")

    class OfferType(models.TextChoices):
        # How a site can be had; a site may be offered several ways (e.g. sale or leasehold).
        SALE = "sale", _("Sale")
        RENT = "rent", _("Rent")
        LEASEHOLD = "leasehold", _("Leasehold (Erbbaurecht)")

    class Broadband(models.TextChoices):
        NONE = "none", _("None")
        BASIC = "basic", _("Below 100 Mbit/s")
        FAST = "fast", _("100 Mbit/s or more")
        GIGABIT = "gigabit", _("Gigabit / fibre")

    organisation = models.ForeignKey(
        PartnerOrganisation,
        verbose_name=_("partner organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sites",
    )
    partner_ref = models.CharField(
        _("partner's site id"), max_length=64, blank=True, help_text=_("The partner's own id.")
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    is_demo = models.BooleanField(
        _("demo data"), default=False, help_text=_("Generated for demonstration; not a real site.")
    )

    geom = models.GeometryField(_("geometry"), srid=STORAGE_SRID)
    # Derived by the database from geom, so they can never disagree with it.
    location = models.GeneratedField(
        expression=PointOnSurface("geom"),
        output_field=models.PointField(srid=STORAGE_SRID),
        db_persist=True,
    )
    geom_web = models.GeneratedField(
        expression=TransformTo("geom", 3857),
        output_field=models.GeometryField(srid=3857),
        db_persist=True,
    )
    location_web = models.GeneratedField(
        expression=TransformTo(PointOnSurface("geom"), 3857),
        output_field=models.PointField(srid=3857),
        db_persist=True,
    )
    geom_area_m2 = models.GeneratedField(
        expression=AreaM2("geom"), output_field=models.FloatField(), db_persist=True
    )
    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("municipality"),
        on_delete=models.PROTECT,
        related_name="sites",
        help_text=_("Derived from the geometry."),
    )
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=5, blank=True)

    gross_area_m2 = models.FloatField(_("gross area (m²)"), validators=[MinValueValidator(1)])
    net_area_m2 = models.FloatField(
        _("net area (m²)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    is_divisible = models.BooleanField(_("divisible"), default=False)
    min_divisible_m2 = models.FloatField(_("smallest divisible part (m²)"), null=True, blank=True)
    max_divisible_m2 = models.FloatField(_("largest divisible part (m²)"), null=True, blank=True)

    planning_category = models.CharField(
        _("planning category"), max_length=2, choices=PlanningCategory.choices
    )
    bplan_status = models.CharField(_("B-Plan status"), max_length=16, choices=BPlanStatus.choices)
    restriction_class = models.CharField(
        _("restriction class"), max_length=8, choices=RestrictionClass.choices, default="none"
    )
    restrictions = ArrayField(
        models.CharField(max_length=16, choices=Restriction.choices),
        verbose_name=_("restrictions"),
        default=list,
        blank=True,
    )
    restriction_notes = models.TextField(_("restriction notes"), blank=True)
    # One JSON object rather than a column per field and language: three fields in five
    # languages would be fifteen mostly empty columns, and a language added later needs
    # no migration. Searching and sorting use the original columns only.
    translations = models.JSONField(
        _("translations"),
        default=dict,
        # Rows inserted in SQL (the bulk upload, the demo generator) get an empty object too.
        db_default=models.Value({}, output_field=models.JSONField()),
        blank=True,
        help_text=_(
            "Title, description and restriction notes written in other languages: "
            '{"en": {"title": "…"}}. The German text is the original.'
        ),
    )
    ownership = models.CharField(_("ownership"), max_length=16, choices=Ownership.choices)
    available_from = models.DateField(
        _("available from"), null=True, blank=True, help_text=_("Empty: available now.")
    )
    # What a price means: the offer types, and one figure per type that compares across
    # sites (sale €/m², monthly rent €/m², yearly ground rent €/m²). Migration 0008 read
    # the former single price of premises below 50 €/m² as a monthly rent.
    offer_types = ArrayField(
        models.CharField(max_length=16, choices=OfferType.choices),
        verbose_name=_("offer type"),
        default=list,
        blank=True,
        help_text=_("Sale, rent or leasehold (Erbbaurecht); one or several."),
    )
    price_eur_m2 = models.DecimalField(
        _("sale price (€/m²)"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    price_total_eur = models.DecimalField(
        _("total sale price (€)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    rent_eur_m2_month = models.DecimalField(
        _("monthly rent (€/m²)"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    ground_rent_eur_m2_year = models.DecimalField(
        _("ground rent (Erbbauzins, €/m² per year)"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    service_charges_eur_m2_month = models.DecimalField(
        _("additional costs (Nebenkosten, €/m² per month)"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    commission_free = models.BooleanField(_("commission-free"), default=False)
    price_on_request = models.BooleanField(_("price on request"), default=False)
    price_negotiable = models.BooleanField(_("price negotiable"), default=False)

    has_water = models.BooleanField(_("water"), default=False)
    has_sewer = models.BooleanField(_("sewer"), default=False)
    has_power = models.BooleanField(_("power"), default=False)
    has_gas_heat = models.BooleanField(_("gas / district heat"), default=False)
    broadband = models.CharField(
        _("broadband"), max_length=8, choices=Broadband.choices, default=Broadband.NONE
    )
    has_rail_siding = models.BooleanField(_("rail siding"), default=False)
    has_port_access = models.BooleanField(_("port access"), default=False)

    # The partner's list an upload last wrote the site from (NULL: never uploaded; "": an
    # upload without a list name). A re-upload of the same list reports the sites it lacks.
    upload_source = models.CharField(
        _("upload list"), max_length=100, null=True, blank=True, editable=False
    )

    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)

    # Distances in metres to the nearest feature of each reference layer, kept current by
    # properties.services.proximity; NULL while the layer is empty.
    distance_to_station_m = models.FloatField(_("distance to station (m)"), null=True, blank=True)
    distance_to_major_station_m = models.FloatField(
        _("distance to station of category 1–3 (m)"), null=True, blank=True
    )
    distance_to_rail_line_m = models.FloatField(
        _("distance to railway line (m)"), null=True, blank=True
    )
    distance_to_airport_m = models.FloatField(_("distance to airport (m)"), null=True, blank=True)
    distance_to_university_m = models.FloatField(
        _("distance to university (m)"), null=True, blank=True
    )
    distance_to_motorway_m = models.FloatField(_("distance to motorway (m)"), null=True, blank=True)
    distance_to_junction_m = models.FloatField(
        _("distance to motorway junction (m)"), null=True, blank=True
    )
    distance_to_waterway_m = models.FloatField(_("distance to waterway (m)"), null=True, blank=True)
    distance_to_port_m = models.FloatField(_("distance to port (m)"), null=True, blank=True)
    distances_computed_at = models.DateTimeField(_("distances computed at"), null=True, blank=True)

    created_at = models.DateTimeField(_("first added"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    last_verified_at = models.DateTimeField(_("last verified"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Optimistic locking: every change of the site's content or status raises it by one, so
    # an editor saving a form loaded at an older version gets a conflict, not a silent loss
    # (properties.services.sites.site_save).
    # db_default: the demo loader inserts sites in SQL.
    version = models.PositiveIntegerField(_("version"), default=1, db_default=1, editable=False)
    status_reason = models.TextField(
        _("reason of the last decision"),
        blank=True,
        default="",
        db_default="",
        help_text=_("Why agency staff sent the site back; shown to its partner."),
    )

    objects = SiteQuerySet.as_manager()

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "partner_ref"],
                condition=~models.Q(partner_ref=""),
                name="site_unique_partner_ref",
            ),
            models.CheckConstraint(
                condition=models.Q(min_divisible_m2__isnull=True)
                | models.Q(max_divisible_m2__isnull=True)
                | models.Q(min_divisible_m2__lte=models.F("max_divisible_m2")),
                name="site_divisible_range_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(net_area_m2__isnull=True)
                | models.Q(net_area_m2__lte=models.F("gross_area_m2")),
                name="site_net_not_above_gross",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "kind"], name="site_status_kind_idx"),
            # The public sites in a bounding box (the API's bbox, the search's drawn area):
            # with the full-table index the planner ANDed it with a bitmap of the status
            # index, 0.3 s at 1,000,000 sites; this one holds only what investors see.
            GistIndex(
                fields=["geom"],
                condition=models.Q(status__in=["published", "reserved"]),
                name="site_public_geom_gist",
            ),
            models.Index(fields=["municipality", "status"], name="site_municipality_status_idx"),
            # The sites hidden for staleness (COALESCE(last verified, added) before the
            # cut-off): a range, so that counting the sites investors see need not read a
            # million entries (proposals.matching._published_count). On the date alone: an
            # index that also holds the status (or is partial on it) drew the planner into
            # reading its every entry into the bitmaps of the bbox search (0.3 s).
            models.Index(Coalesce("last_verified_at", "created_at"), name="site_verified_idx"),
            # Counting a search's results without reading the wide rows (four geometry
            # columns, ~1.6 kB each): an index-only scan over every scalar filter column.
            # At 100,000 sites the six-filter count went from ~80 ms to ~15 ms.
            models.Index(
                fields=["status", "kind"],
                include=[
                    "planning_category",
                    "bplan_status",
                    "ownership",
                    "restriction_class",
                    "broadband",
                    "gross_area_m2",
                    "net_area_m2",
                    "price_eur_m2",
                    "rent_eur_m2_month",
                    "offer_types",
                    "price_on_request",
                    "available_from",
                    "is_divisible",
                    "min_divisible_m2",
                    "max_divisible_m2",
                    "has_rail_siding",
                    "has_port_access",
                    "municipality",
                    "last_verified_at",
                    "created_at",
                    *DISTANCE_FIELDS,
                ],
                name="site_search_covering",  # at PostgreSQL's limit of 32 columns
            ),
            GistIndex(fields=["geom_web"], name="site_geom_web_gist"),
            GistIndex(fields=["location"], name="site_location_gist"),
            GistIndex(fields=["location_web"], name="site_location_web_gist"),
            # The investor search: area and price ranges, the default and area sorts (the
            # id makes the tie-break an index scan too), the most used proximity filters.
            models.Index(fields=["gross_area_m2", "id"], name="site_gross_area_idx"),
            # A search for one kind in area or newest order: the first page read in that
            # order from the kind's entries (a rare kind sorted by area read 400,000 entries
            # of site_gross_area_idx at 1,000,000 sites). Not partial, like the status index
            # above: the public statuses are checked on the rows.
            models.Index(fields=["kind", "gross_area_m2", "id"], name="site_kind_area_idx"),
            models.Index(fields=["kind", "created_at", "id"], name="site_kind_created_idx"),
            models.Index(fields=["price_eur_m2"], name="site_price_idx"),
            models.Index(fields=["rent_eur_m2_month"], name="site_rent_idx"),
            GinIndex(fields=["offer_types"], name="site_offer_types_gin"),
            models.Index(fields=["created_at", "id"], name="site_created_idx"),
            models.Index(fields=["distance_to_station_m"], name="site_dist_station_idx"),
            models.Index(
                fields=["distance_to_major_station_m"], name="site_dist_major_station_idx"
            ),
            models.Index(fields=["distance_to_junction_m"], name="site_dist_junction_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def translated(self, field: str, language: str | None = None) -> TranslatedText:
        """`field` (title, description, restriction notes) in the reader's language if a
        person wrote it, else the German original, marked as a fallback."""
        language = language or translation.get_language() or ORIGINAL_LANGUAGE
        original = getattr(self, field) or ""
        if language == ORIGINAL_LANGUAGE:
            return TranslatedText(original, ORIGINAL_LANGUAGE, False)
        text = ((self.translations or {}).get(language) or {}).get(field, "")
        if text:
            return TranslatedText(text, language, False)
        return TranslatedText(original, ORIGINAL_LANGUAGE, bool(original))

    def clean(self) -> None:
        super().clean()
        self.translations = clean_translations(self.translations)

    @property
    def is_plot(self) -> bool:
        return self.kind == self.Kind.PLOT


class SiteMedia(models.Model):
    """A photo or document attached to a site."""

    class Kind(models.TextChoices):
        PHOTO = "photo", _("Photo")
        DOCUMENT = "document", _("Document")

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="media")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to="sites/%Y/%m/")
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("photo or document")
        verbose_name_plural = _("photos and documents")
        ordering = ["site", "position", "id"]

    def __str__(self) -> str:
        return self.caption or self.file.name or ""


class SiteChange(models.Model):
    """One entry of a site's history: who did what, when, with the changed fields' values
    before and after (geometries as their area and a hash). Written by the services only."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")
        SUBMITTED = "submitted", _("Submitted")
        PUBLISHED = "published", _("Published")
        SENT_BACK = "sent_back", _("Sent back")
        RESERVED = "reserved", _("Reserved")
        SOLD = "sold", _("Sold")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        VERIFIED = "verified", _("Confirmed as current")
        UPLOADED = "uploaded", _("Uploaded")

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="changes"
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    reason = models.TextField(_("reason"), blank=True)
    before = models.JSONField(_("before"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("after"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    version = models.PositiveIntegerField(
        _("version"), help_text=_("The site's version after this change.")
    )

    class Meta:
        verbose_name = _("change of a site")
        verbose_name_plural = _("history")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["site", "changed_at"], name="sitechange_site_time_idx")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.changed_at:%Y-%m-%d %H:%M}"

    @property
    def changed_fields(self) -> list[str]:
        """The names of the fields this change touched, in model order."""
        names = set(self.before) | set(self.after)
        return [f.name for f in Site._meta.concrete_fields if f.name in names]


class UploadMapping(models.Model):
    """An organisation's own words for the bulk upload: a column header read as a site field
    ("column"; field "" = ignore the column), or a raw value read as a choice's code
    ("value"). Applied to every later upload of the organisation."""

    class Kind(models.TextChoices):
        COLUMN = "column", _("Column")
        VALUE = "value", _("Value")

    organisation = models.ForeignKey(
        PartnerOrganisation,
        verbose_name=_("partner organisation"),
        on_delete=models.CASCADE,
        related_name="upload_mappings",
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    field = models.CharField(_("field"), max_length=64, blank=True)
    source = models.CharField(_("as written in the file"), max_length=200)
    source_key = models.CharField(_("normalised"), max_length=200, editable=False)
    value = models.CharField(_("read as"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("upload mapping")
        verbose_name_plural = _("upload mappings")
        ordering = ["organisation", "kind", "field", "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind", "field", "source_key"],
                name="uploadmapping_unique_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.value or self.field or '-'}"


class SiteCluster(models.Model):
    """The public sites aggregated on the low-zoom tile grid (properties.clusters): one row
    per occupied cell and zoom below SITE_TILE_POINT_MIN_ZOOM, so a low-zoom tile reads at
    most 16 x 16 rows instead of grouping every site under it. Derived data, rebuilt from
    the sites when their data version moves on; never edited."""

    zoom = models.PositiveSmallIntegerField()
    cell_x = models.IntegerField()
    cell_y = models.IntegerField()  # counted from the south, as EPSG:3857 y
    site_count = models.IntegerField()
    # The mean position of the cell's sites (EPSG:3857 metres).
    x = models.FloatField()
    y = models.FloatField()
    first_site_id = models.BigIntegerField()  # a cell of one site is drawn as that site

    class Meta:
        indexes = [models.Index(fields=["zoom", "cell_x", "cell_y"], name="sitecluster_cell_idx")]


class SiteClusterBuild(models.Model):
    """What the SiteCluster rows were built from: the sites' data version and the day (the
    staleness cut-off moves with the date). One row."""

    sites_version = models.BigIntegerField()
    day = models.DateField()
    built_at = models.DateTimeField()
    seconds = models.FloatField()


# The bulk upload's background job (in its own module; Django finds it here).
class DigestLog(models.Model):
    """One freshness digest e-mailed to a partner organisation
    (properties.services.freshness): lets the weekly command skip organisations mailed
    recently, so running it again sends nothing twice."""

    organisation = models.ForeignKey(
        PartnerOrganisation,
        verbose_name=_("partner organisation"),
        on_delete=models.CASCADE,
        related_name="digest_logs",
    )
    sent_at = models.DateTimeField(_("sent at"))
    stale_count = models.PositiveIntegerField(_("stale sites"), default=0)
    hidden_count = models.PositiveIntegerField(_("hidden sites"), default=0)

    class Meta:
        db_table = "accounts_digestlog"  # born in accounts (properties/migrations/0013)
        verbose_name = _("freshness digest")
        verbose_name_plural = _("freshness digests")
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["organisation", "sent_at"], name="digestlog_org_sent_idx")]

    def __str__(self) -> str:
        return f"{self.organisation_id} · {self.sent_at:%Y-%m-%d %H:%M}"


from .upload_job import UploadJob  # noqa: E402, F401
