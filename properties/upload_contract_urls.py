"""The upload's data contract (public: it holds no data); included at partner/upload/."""

from django.urls import path

from . import upload_contract_views as views

urlpatterns = [
    path("columns/", views.upload_contract_page, name="upload_contract"),
    path(
        "template-<str:language>.<str:extension>",
        views.upload_template,
        name="upload_template",
    ),
    path("schema.json", views.upload_schema, name="upload_schema"),
]
