from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "devices"
    verbose_name = "Apps and devices"

    def ready(self) -> None:
        from devices import schema  # noqa: F401  (registers the OpenAPI token scheme)
