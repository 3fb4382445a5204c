from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from campaigns import signals  # noqa: F401  (it registers itself)
