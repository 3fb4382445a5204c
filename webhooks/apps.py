from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        """Listen for the delivery events the apps below announce."""
        from webhooks import capture

        capture.register()
