from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = pgettext_lazy("app name", "Search")

    def ready(self) -> None:
        # Login is Django's own workflow, so its signal is the one hook we get: a visitor's
        # shortlist follows them into their account.
        from django.contrib.auth.signals import user_logged_in

        from properties.signals import search_found_nothing

        from .receivers import merge_shortlist_on_login, record_empty_search

        user_logged_in.connect(merge_shortlist_on_login, dispatch_uid="search.merge_shortlist")
        # The search page and API live in properties, which must not import search.
        search_found_nothing.connect(record_empty_search, dispatch_uid="search.empty_search")
