from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "devices"
    verbose_name = "Apps and devices"

    def ready(self) -> None:
        from devices import schema, signals  # noqa: F401  (they register themselves)
