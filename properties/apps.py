from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PropertiesConfig(AppConfig):
    name = "properties"
    verbose_name = _("Sites")

    def ready(self) -> None:
        from geodata.signals import layers_changed

        from .receivers import refresh_distances_on_layers_changed

        layers_changed.connect(
            refresh_distances_on_layers_changed, dispatch_uid="properties.refresh_distances"
        )
