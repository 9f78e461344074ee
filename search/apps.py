from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = pgettext_lazy("app name", "Search")

    def ready(self) -> None:
        # Login is Django's own workflow, so its signal is the one hook we get: a visitor's
        # shortlist follows them into their account.
        from django.contrib.auth.signals import user_logged_in

        from .receivers import merge_shortlist_on_login

        user_logged_in.connect(merge_shortlist_on_login, dispatch_uid="search.merge_shortlist")
