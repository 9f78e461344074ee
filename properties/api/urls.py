from django.urls import path

from . import exports, municipalities, places, views

urlpatterns = [
    path("sites/", views.SiteList.as_view(), name="api-site-list"),
    # Before sites/<int:pk>/ so the export paths are never read as a site id.
    path("sites/export.csv", exports.SiteExportCsv.as_view(), name="api-site-export-csv"),
    path("sites/export.xlsx", exports.SiteExportXlsx.as_view(), name="api-site-export-xlsx"),
    path(
        "sites/export.geojson",
        exports.SiteExportGeoJson.as_view(),
        name="api-site-export-geojson",
    ),
    path("sites/<int:pk>/", views.SiteDetail.as_view(), name="api-site-detail"),
    path("places/", places.PlaceSearch.as_view(), name="api-places"),
    path(
        "municipalities/", municipalities.MunicipalityList.as_view(), name="api-municipality-list"
    ),
    path(
        "municipalities/<str:ags>/",
        municipalities.MunicipalityDetail.as_view(),
        name="api-municipality-detail",
    ),
]

tile_urlpatterns = [
    path("tiles/sites/<int:z>/<int:x>/<int:y>.pbf", views.site_tile, name="tile-sites"),
]
