from django.apps import AppConfig


class JourneysConfig(AppConfig):
    name = "journeys"
    verbose_name = "Journeys"

    def ready(self) -> None:
        """Plug the steps into campaigns (their purpose, how their pages name the journey) and
        the Segment.com secret into the app's page."""
        from campaigns import extensions
        from devices.models import MobileApp
        from journeys import admin, services
        from pushcenter import page_extensions

        extensions.register_purpose(services.PURPOSE, "Journey step", services.describe_step)
        page_extensions.add_inline(MobileApp, admin.SegmentComSourceInline)
