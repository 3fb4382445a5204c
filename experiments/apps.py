from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "experiments"
    verbose_name = "A/B tests"

    def ready(self) -> None:
        from campaigns.models import Notification
        from experiments import admin
        from pushcenter import page_extensions

        page_extensions.actions.add(Notification, admin.ab_test_action)
