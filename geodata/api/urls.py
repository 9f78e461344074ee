from django.urls import path

from . import views

urlpatterns = [
    path("layers/", views.LayerList.as_view(), name="api-layer-list"),
    path(
        "layers/<slug:slug>/features/", views.LayerFeatureList.as_view(), name="api-layer-features"
    ),
    path("datasets/", views.DatasetList.as_view(), name="api-dataset-list"),
    path("districts/", views.DistrictList.as_view(), name="api-district-list"),
]

tile_urlpatterns = [
    path(
        "tiles/layers/<slug:slug>/<int:z>/<int:x>/<int:y>.pbf", views.layer_tile, name="tile-layer"
    ),
    path(
        "tiles/boundaries/<int:z>/<int:x>/<int:y>.pbf",
        views.boundaries_tile,
        name="tile-boundaries",
    ),
]
