from django.apps import AppConfig


class JourneysConfig(AppConfig):
    name = "journeys"
    verbose_name = "Journeys"

    def ready(self) -> None:
        """Plug the steps into campaigns: their purpose, and how their pages name the journey."""
        from campaigns import extensions
        from journeys import services

        extensions.register_purpose(services.PURPOSE, "Journey step", services.describe_step)
