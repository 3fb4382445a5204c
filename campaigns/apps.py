from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from campaigns import admin, setup_steps, signals  # noqa: F401  (signals registers itself)
        from devices import setup_status
        from devices.models import Device, MobileApp
        from pushcenter import page_extensions
        from segments.admin import users_of_segment

        page_extensions.actions.add(Device, admin.trial_send_action)
        page_extensions.add_inline(MobileApp, admin.SendingRulesInline)
        users_of_segment.append(admin.notifications_targeting)
        setup_status.add_steps(setup_steps.steps)
