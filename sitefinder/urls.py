from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.views import language_set
from geodata.api import urls as geodata_api
from ops import urls as ops_urls
from properties.api import urls as properties_api
from properties.media_views import SITE_MEDIA_FOLDER, other_media_file, site_media_file
from proposals.offer_views import offer_link_unprefixed
from search.api import urls as search_api
from sitefinder.exceptions import api_not_found

# A lost database connection met outside a view is a 503 too (ops.outage).
handler500 = "ops.outage.server_error"

api_v1 = [
    *properties_api.urlpatterns,
    *geodata_api.urlpatterns,
    *search_api.urlpatterns,
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    # In the site's frame (templates/api/docs.html), with a way back.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/docs.html"),
        name="api-docs",
    ),
]

# Pages carry their language in the URL (/de/sites/1/, /zh-hans/sites/1/), so a shared link
# opens in the language it was shared in. Every language has its prefix, German too: an old
# unprefixed page URL is redirected by LocaleMiddleware to the visitor's language (cookie,
# then Accept-Language). Machine endpoints below stay unprefixed.
pages = i18n_patterns(
    path("", include("properties.urls")),
    path("", include("proposals.site_urls")),
    path("", include("search.urls")),
    path("accounts/", include("accounts.urls")),
    path("staff/", include("properties.staff_urls")),
    path("partner/", include("properties.partner_urls")),
    path("partner/upload/", include("properties.upload_contract_urls")),
    path("inquiry/", include("proposals.inquiry_urls")),
    path("offers/", include("proposals.offer_urls")),
    path("staff/", include("proposals.staff_urls")),
    path("", include(ops_urls.page_urlpatterns)),
    prefix_default_language=True,
)

urlpatterns = [
    *pages,
    # An offer link opens in the offer's language, whatever the investor's browser says.
    path("offers/<str:token>/", offer_link_unprefixed, name="offer_link_unprefixed"),
    path("api/v1/", include(api_v1)),
    # Every other /api/ path: a JSON 404, never the HTML page.
    re_path(r"^api/", api_not_found, name="api-not-found"),
    *properties_api.tile_urlpatterns,
    *geodata_api.tile_urlpatterns,
    path("", include("ops.urls")),
    # The switcher also stores the choice on the account (accounts.views.language_set).
    path("i18n/setlang/", language_set, name="set_language"),
    # The admin is for agency staff only (is_staff); partners work in their own pages.
    path("admin/", admin.site.urls),
    # Site photos and documents only for users who may see the site (drafts stay private),
    # in every environment; before the DEBUG helper below, which would serve any file.
    path(
        settings.MEDIA_URL.lstrip("/") + SITE_MEDIA_FOLDER + "<path:name>",
        site_media_file,
        name="site_media_file",
    ),
    *static(settings.MEDIA_URL, view=other_media_file, document_root=settings.MEDIA_ROOT),
]
