from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from .models import Dataset, DataVersion, District, Layer, LayerFeature, Municipality, Region


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "licence", "demo_only", "imported_at")
    readonly_fields = ("checksum", "imported_at")


@admin.register(Region)
class RegionAdmin(LeafletGeoAdmin):
    list_display = ("name", "population", "area_km2")


@admin.register(District)
class DistrictAdmin(LeafletGeoAdmin):
    list_display = ("name", "ags", "kind", "population")
    search_fields = ("name", "ags")


@admin.register(Municipality)
class MunicipalityAdmin(LeafletGeoAdmin):
    list_display = ("name", "ags", "district", "population", "area_km2")
    list_filter = ("district",)
    search_fields = ("name", "ags")
    list_select_related = ("district",)


@admin.register(Layer)
class LayerAdmin(admin.ModelAdmin):
    list_display = ("slug", "name_de", "name_en", "geometry", "colour", "position")
    readonly_fields = ("slug",)

    def has_add_permission(self, request):
        return False  # layers mirror the registry in geodata.layers

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LayerFeature)
class LayerFeatureAdmin(LeafletGeoAdmin):
    list_display = ("name", "layer", "external_id", "category", "dataset")
    list_filter = ("layer", "dataset", "category")
    search_fields = ("name", "external_id")
    list_select_related = ("layer", "dataset")


@admin.register(DataVersion)
class DataVersionAdmin(admin.ModelAdmin):
    list_display = ("name", "version", "changed_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
