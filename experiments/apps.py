from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "experiments"
    verbose_name = "A/B tests"

    def ready(self) -> None:
        """Plug the arms into campaigns (purpose, shares, holdout) and the button into its page."""
        from campaigns import extensions
        from campaigns.models import Notification
        from experiments import admin, assignment, services
        from pushcenter import page_extensions

        extensions.register_purpose(assignment.PURPOSE, "A/B test arm", services.describe_arm)
        extensions.register_audience_filter(assignment.keep_arm_share)
        extensions.register_audience_skip(assignment.holdout_reason)
        page_extensions.actions.add(Notification, admin.ab_test_action)
