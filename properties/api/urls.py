from django.urls import path

from . import views

urlpatterns = [
    path("sites/", views.SiteList.as_view(), name="api-site-list"),
    path("sites/<int:pk>/", views.SiteDetail.as_view(), name="api-site-detail"),
]

tile_urlpatterns = [
    path("tiles/sites/<int:z>/<int:x>/<int:y>.pbf", views.site_tile, name="tile-sites"),
]
