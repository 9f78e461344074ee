"""HTML pages of the search app; its API has its own module (search/api/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("shortlist/", views.shortlist, name="shortlist"),
    path("shortlist/remove/", views.shortlist_remove_site, name="shortlist-remove"),
    path("account/searches/", views.saved_searches, name="saved_searches"),
    path(
        "account/searches/<int:pk>/delete/",
        views.saved_search_delete_view,
        name="saved_search_delete",
    ),
    path(
        "account/searches/<int:pk>/edit/",
        views.saved_search_update_view,
        name="saved_search_update",
    ),
    path(
        "account/searches/<int:pk>/pause/",
        views.saved_search_pause_view,
        name="saved_search_pause",
    ),
    path(
        "account/searches/<int:pk>/resume/",
        views.saved_search_resume_view,
        name="saved_search_resume",
    ),
    path(
        "account/searches/<int:pk>/unsubscribe/<str:token>/",
        views.saved_search_unsubscribe_view,
        name="saved_search_unsubscribe",
    ),
]
