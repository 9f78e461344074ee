from django.urls import path

from . import views

urlpatterns = [
    path("shortlist/", views.ShortlistView.as_view(), name="api-shortlist"),
    path(
        "shortlist/<int:site_id>/",
        views.ShortlistEntryView.as_view(),
        name="api-shortlist-entry",
    ),
    path("saved-searches/", views.SavedSearchListView.as_view(), name="api-saved-search-list"),
    path(
        "saved-searches/<int:pk>/",
        views.SavedSearchDetailView.as_view(),
        name="api-saved-search-detail",
    ),
]
