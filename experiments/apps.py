from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "experiments"
    verbose_name = "A/B tests"

    def ready(self) -> None:
        """Plug the arms into campaigns: their purpose, their shares and the holdout."""
        from campaigns import extensions
        from experiments import assignment, services

        extensions.register_purpose(assignment.PURPOSE, "A/B test arm", services.describe_arm)
        extensions.register_audience_filter(assignment.keep_arm_share)
        extensions.register_audience_skip(assignment.holdout_reason)
