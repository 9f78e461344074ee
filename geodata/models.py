from django.contrib.gis.db import models
from django.contrib.postgres.indexes import GistIndex
from django.utils.translation import gettext_lazy as _

from .layers import localised_name
from .querysets import LayerFeatureQuerySet, MunicipalityQuerySet

STORAGE_SRID = 25832  # ETRS89 / UTM 32N: metric, the official CRS of North Rhine-Westphalia


class Dataset(models.Model):
    """Where imported geodata came from: shown as attribution wherever the data is shown."""

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=200)
    source = models.TextField(_("source"), blank=True)
    licence = models.CharField(_("licence"), max_length=120, blank=True)
    attribution = models.CharField(_("attribution"), max_length=300, blank=True)
    attribution_url = models.URLField(_("attribution link"), blank=True)
    demo_only = models.BooleanField(
        _("demo use only"),
        default=False,
        help_text=_("The licence does not clearly allow public use; replace before release."),
    )
    checksum = models.CharField(_("file checksum"), max_length=64, blank=True)
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)

    class Meta:
        verbose_name = _("dataset")
        verbose_name_plural = _("datasets")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.title


class Region(models.Model):
    """The outline of the whole area served (the RVR area)."""

    slug = models.SlugField(_("slug"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    area_km2 = models.FloatField(_("area (km²)"), null=True, blank=True)
    geom = models.MultiPolygonField(_("outline"), srid=STORAGE_SRID)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, null=True, blank=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name


class District(models.Model):
    """A Kreis or a kreisfreie Stadt (5-digit key)."""

    ags = models.CharField(_("district key"), max_length=5, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("type"), max_length=40, blank=True)
    regierungsbezirk = models.CharField(_("administrative region"), max_length=60, blank=True)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    area_km2 = models.FloatField(_("area (km²)"), null=True, blank=True)
    geom = models.MultiPolygonField(_("boundary"), srid=STORAGE_SRID)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, null=True, blank=True)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Municipality(models.Model):
    """One of the region's municipalities, keyed by its 8-digit AGS."""

    ags = models.CharField(_("AGS"), max_length=8, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("type"), max_length=40, blank=True)
    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="municipalities",
    )
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    area_km2 = models.FloatField(_("area (km²)"), null=True, blank=True)
    postcode = models.CharField(_("main postcode"), max_length=5, blank=True)
    geom = models.MultiPolygonField(_("boundary"), srid=STORAGE_SRID)
    centre = models.PointField(_("centre"), srid=STORAGE_SRID, null=True, blank=True)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, null=True, blank=True)

    objects = MunicipalityQuerySet.as_manager()

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Layer(models.Model):
    """A reference layer (stations, motorways, ...). Rows mirror geodata.layers.LAYERS."""

    slug = models.SlugField(_("slug"), max_length=32, unique=True)
    name_de = models.CharField(_("name (German)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    geometry = models.CharField(_("drawn as"), max_length=10)
    colour = models.CharField(_("colour"), max_length=7)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("reference layer")
        verbose_name_plural = _("reference layers")
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localised_name(self.name_de, self.name_en)


class LayerFeature(models.Model):
    """One feature of a reference layer, stable on (layer, external_id) across imports."""

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="features")
    external_id = models.CharField(_("source id"), max_length=64)
    name = models.CharField(_("name"), max_length=200, blank=True)
    category = models.PositiveSmallIntegerField(
        _("category"), null=True, blank=True, help_text=_("DB station category 1-7 for stations.")
    )
    properties = models.JSONField(_("source attributes"), default=dict, blank=True)
    geom = models.GeometryField(_("geometry"), srid=STORAGE_SRID, spatial_index=False)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, null=True, blank=True)

    objects = LayerFeatureQuerySet.as_manager()

    class Meta:
        verbose_name = _("layer feature")
        verbose_name_plural = _("layer features")
        constraints = [
            models.UniqueConstraint(
                fields=["layer", "external_id"], name="layerfeature_unique_source_id"
            )
        ]
        # (layer, geom) in one GiST index: nearest-neighbour searches within a layer.
        indexes = [GistIndex(fields=["layer", "geom"], name="layerfeature_layer_geom_gist")]

    def __str__(self) -> str:
        return self.name or self.external_id


class DataVersion(models.Model):
    """A counter per data set that tiles and caches key on.

    Bumped by statement-level triggers (see the migration), so every writer — the ORM, the
    bulk SQL of imports and demo generation, another process — invalidates cached tiles
    without having to remember to.
    """

    name = models.CharField(max_length=32, primary_key=True)
    version = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("data version")
        verbose_name_plural = _("data versions")

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @classmethod
    def current(cls, name: str, using: str | None = None) -> int:
        rows = cls.objects.using(using) if using else cls.objects
        row = rows.filter(name=name).values_list("version", flat=True).first()
        return row or 0
