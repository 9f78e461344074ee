from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Running the service: the supervisor, the task worker's wrapper, the scheduler, health
    and readiness, request logging and metrics."""

    name = "ops"
    verbose_name = _("Operations")

    def ready(self) -> None:
        from . import observability

        observability.connect_task_signals()
