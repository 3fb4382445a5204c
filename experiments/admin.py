"""The A/B test pages: make a test from a draft, split its audience among the variants, start
or cancel it, and read each arm's rates against variant A and the holdout."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.views.decorators.http import require_POST

from campaigns.models import Notification, Purpose, Status
from devices import membership
from devices.models import MobileApp
from experiments import results, services
from experiments.forms import SPLIT_EVENLY, ExperimentForm, NewExperimentForm, split_evenly
from experiments.models import (
    MAX_VARIANTS,
    ArmKind,
    Experiment,
    ExperimentStatus,
    WinnerMetric,
)
from pushcenter.admin_deletion import CountedDeletion
from pushcenter.page_extensions import Action

STARTED = "This A/B test has started; its split can no longer change."
SETTINGS = ["name", "holdout_percent", "winner_after_hours", "winner_metric", "conversion_event"]


def _rate(rate: results.Rate) -> str:
    return "—" if rate.value is None else f"{rate.value:.1%}"


def compared(rate: results.Rate, reference: results.Rate | None, name: str) -> str:
    """Say how a rate differs from the reference arm's, and whether the difference counts."""
    if reference is None:
        return ""
    if rate.p_value is None:
        return "too few to tell"
    points = ((rate.value or 0) - (reference.value or 0)) * 100
    verdict = "significant" if rate.significant else "not significant yet"
    p = "p < 0.001" if rate.p_value < 0.001 else f"p = {rate.p_value:.2g}"
    return f"{points:+.1f} pts vs {name} · {verdict}, {p}"


def result_rows(experiment: Experiment) -> list[dict]:
    """Each arm's figures for the results table, variants compared with A."""
    found = results.results(experiment)
    control = next((r for r in found if r.arm.label == "A"), None)
    holdout = next((r for r in found if r.arm.kind == ArmKind.HOLDOUT), None)
    conversion_reference = holdout or control
    best = results.best_variant(experiment) if found else None
    rows = []
    for result in found:
        rates = result.rates
        versus_a = control if result is not control else None
        versus_conversion = conversion_reference if result is not conversion_reference else None
        notification = result.arm.notification
        rows.append(
            {
                "arm": result.arm,
                "best": best is not None and result.arm.pk == best.pk,
                "targeted": result.targeted,
                "sent": result.sent,
                "skipped": skipped_note(result),
                "unsent": unsent_note(result),
                "delivery_rate": _rate(rates[WinnerMetric.DELIVERY_RATE]),
                "delivery_vs": _versus(result, versus_a, WinnerMetric.DELIVERY_RATE, "A"),
                "launches": rates[WinnerMetric.LAUNCH_RATE].successes,
                "launch_rate": _rate(rates[WinnerMetric.LAUNCH_RATE]),
                "launch_vs": _versus(result, versus_a, WinnerMetric.LAUNCH_RATE, "A"),
                "conversions": rates[WinnerMetric.CONVERSION_RATE].successes,
                "conversion_rate": _rate(rates[WinnerMetric.CONVERSION_RATE]),
                "conversion_vs": _versus(
                    result,
                    versus_conversion,
                    WinnerMetric.CONVERSION_RATE,
                    "the holdout" if holdout else "A",
                ),
                "metrics_url": reverse("admin:metrics_notification", args=[notification.pk])
                if notification.started_at
                else None,
            }
        )
    return rows


def skipped_note(result: results.ArmResult) -> str:
    """Name the arm's skipped deliveries by reason, most first ("" when none were skipped)."""
    if not result.skipped:
        return ""
    return "Skipped: " + "; ".join(f"{n:,} — {reason}" for reason, n in result.skipped.items())


def unsent_note(result: results.ArmResult) -> str:
    """Say why an arm whose send is over reached no device ("" for the rest and the holdout)."""
    started = result.arm.notification.started_at is not None
    if result.arm.kind == ArmKind.HOLDOUT or not started or result.sending or result.sent:
        return ""
    targeted, skipped = result.targeted, sum(result.skipped.values())
    if not targeted:
        return "Sent to no one: no device was in this arm's share of the audience."
    if skipped < targeted:
        return (
            f"Sent to no one: of its {targeted:,} devices, {skipped:,} were skipped and "
            f"{targeted - skipped:,} were not delivered."
        )
    devices = f"all {targeted:,} devices were" if targeted > 1 else "its one device was"
    if len(result.skipped) > 1:
        return f"Sent to no one: {devices} skipped, for the reasons below."
    return f"Sent to no one: {devices} skipped ({next(iter(result.skipped))})."


def _versus(result, reference, metric: str, name: str) -> str:
    if reference is None or result.arm.kind == ArmKind.WINNER:
        return ""
    return compared(result.rates[metric], reference.rates[metric], name)


def winner_note(experiment: Experiment) -> str:
    """Say whether, and when, the best variant goes to the rest of the audience."""
    winner = experiment.arms.filter(kind=ArmKind.WINNER).first()
    if winner is not None:
        when = formats.date_format(timezone.localtime(experiment.decided_at), "DATETIME_FORMAT")
        return f"The winner, variant {winner.label[-2]}, was sent to the rest on {when}."
    hours = experiment.winner_after_hours
    if hours is None:
        return "No winner send: the variants and the holdout take the whole audience."
    arms = services.variants(experiment)
    started = arms[0].notification.started_at if arms else None
    if experiment.status == ExperimentStatus.RUNNING and started:
        when = formats.date_format(
            timezone.localtime(started + timedelta(hours=hours)), "DATETIME_FORMAT"
        )
        return (
            f"The best variant on {experiment.get_winner_metric_display().lower()} goes to "
            f"the rest on {when}."
        )
    return f"The best variant goes to the rest {hours} hours after variant A starts sending."


@admin.register(Experiment)
class ExperimentAdmin(CountedDeletion, admin.ModelAdmin):
    form = ExperimentForm
    change_form_template = "admin/experiments/experiment/change_form.html"
    list_display = ["name", "app", "status", "variant_count", "winner_metric", "started_at"]
    list_filter = ["status", ("app", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name"]
    fields = SETTINGS

    @admin.display(description="Variants")
    def variant_count(self, obj: Experiment) -> int:
        return obj.variant_total

    def get_queryset(self, request: HttpRequest) -> QuerySet[Experiment]:
        experiments = super().get_queryset(request).filter(app__in=self._apps(request))
        return experiments.select_related("app__organization").annotate(
            variant_total=Count("arms", filter=Q(arms__kind=ArmKind.VARIANT))
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Experiment | None = None) -> list:
        if obj is not None and obj.status != ExperimentStatus.DRAFT:
            return SETTINGS
        return []

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        """Pick a draft campaign notification as variant A and name the test."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = NewExperimentForm(request.POST or None, apps=self._apps(request))
        if request.method == "POST" and form.is_valid():
            return self._made(request, form.cleaned_data["notification"], form.cleaned_data["name"])
        context = {
            **self.admin_site.each_context(request),
            "title": "Add A/B test",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/experiments/experiment/add.html", context)

    def save_model(self, request: HttpRequest, obj: Experiment, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        for arm in form.arms:
            arm.percent = form.splits()[arm.label]
            arm.save(update_fields=["percent"])
        if form.arms:
            services.assign_buckets(obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Split evenly, pressed where the page's script did not run, splits what was typed.

        The variants' shares are made even from the holdout as submitted, and everything else
        the marketer typed is saved with them, or shown back with the reasons it was refused.
        """
        if request.method == "POST" and SPLIT_EVENLY in request.POST and object_id:
            experiment = self.get_object(request, unquote(object_id))
            if experiment is not None and experiment.status != ExperimentStatus.DRAFT:
                return self._refused(request, experiment, ValidationError(STARTED))
            if experiment is not None:
                request.POST = split_evenly(request.POST, services.variants(experiment))
        return super().changeform_view(request, object_id, form_url, extra_context)

    def response_change(self, request: HttpRequest, obj: Experiment) -> HttpResponse:
        if SPLIT_EVENLY not in request.POST:
            return super().response_change(request, obj)
        self.message_user(request, "Saved: the variants share what the holdout leaves equally.")
        return self._back(obj)

    def construct_change_message(self, request, form, formsets, add=False):
        changed = [name for name in form.changed_data if name in SETTINGS]
        splits = ", ".join(f"{label} {pct}%" for label, pct in form.splits().items())
        message = f"Changed {', '.join(changed) or 'nothing'}; split {splits}."
        if SPLIT_EVENLY in request.POST:
            message = f"Split evenly. {message}"
        return message if form.arms else super().construct_change_message(request, form, formsets)

    def deletion_roots(self, obj: Experiment) -> list:
        return [obj, *services.arm_notifications(obj)]

    def delete_model(self, request: HttpRequest, obj: Experiment) -> None:
        services.delete(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Experiment]) -> None:
        for experiment in queryset:
            services.delete(experiment)

    def render_change_form(self, request: HttpRequest, context: dict, *args, **kwargs):
        experiment = kwargs.get("obj")
        if experiment is not None:
            form = context["adminform"].form
            context["variants"] = [
                {
                    "arm": arm,
                    "title": arm.notification.text("title", arm.notification.default_language),
                    "body": arm.notification.text("body", arm.notification.default_language),
                    "split": form[f"split_{arm.label}"] if form.arms else None,
                }
                for arm in services.variants(experiment)
            ]
            context["max_variants"] = MAX_VARIANTS
            context["max_holdout"] = services.MAX_HOLDOUT
            context["winner_note"] = winner_note(experiment)
            if experiment.status == ExperimentStatus.DRAFT:
                context["problems"] = services.problems(experiment)
            if experiment.started_at:
                context["results"] = result_rows(experiment)
        return super().render_change_form(request, context, *args, **kwargs)

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        actions = {
            "add_variant": self.add_variant_view,
            "start": self.start_view,
            "cancel": self.cancel_view,
        }
        return [
            path(
                "from/<int:notification_pk>/",
                view(require_POST(self.from_notification_view)),
                name="experiments_from_notification",
            ),
            *(
                path(
                    f"<int:pk>/{name.replace('_', '-')}/",
                    view(require_POST(action)),
                    name=f"experiments_{name}",
                )
                for name, action in actions.items()
            ),
            path(
                "<int:pk>/variants/<int:arm_pk>/remove/",
                view(require_POST(self.remove_variant_view)),
                name="experiments_remove_variant",
            ),
            *super().get_urls(),
        ]

    def from_notification_view(self, request: HttpRequest, notification_pk: int) -> HttpResponse:
        """Make a test whose variant A is this draft and whose variant B is its copy."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        drafts = Notification.objects.filter(
            app__in=self._apps(request), purpose=Purpose.CAMPAIGN, status=Status.DRAFT
        )
        notification = get_object_or_404(drafts, pk=notification_pk)
        return self._made(request, notification, f"A/B test of {notification.name}"[:128])

    def add_variant_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Add a variant as a copy of A and open it in the composer."""
        experiment = self._changeable(request, pk)
        try:
            arm = services.add_variant(experiment, request.user)
        except ValidationError as error:
            return self._refused(request, experiment, error)
        services.split_evenly(experiment)
        self.log_change(request, experiment, f"Added variant {arm.label}; split evenly.")
        self.message_user(request, f"Added variant {arm.label}, a copy of A: change its content.")
        return self._back(experiment)

    def remove_variant_view(self, request: HttpRequest, pk: int, arm_pk: int) -> HttpResponse:
        experiment = self._changeable(request, pk)
        arm = get_object_or_404(experiment.arms.select_related("notification"), pk=arm_pk)
        try:
            services.remove_variant(arm)
        except ValidationError as error:
            return self._refused(request, experiment, error)
        services.split_evenly(experiment)
        self.log_change(request, experiment, f"Removed variant {arm.label}; split evenly.")
        self.message_user(request, f"Removed variant {arm.label}.")
        return self._back(experiment)

    def start_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Schedule every arm with variant A's audience and schedule."""
        experiment = self._changeable(request, pk)
        try:
            services.start(experiment)
        except ValidationError as error:
            return self._refused(request, experiment, error)
        self.log_change(request, experiment, "Started.")
        self.message_user(request, f"{experiment} has started: its variants are scheduled.")
        return self._back(experiment)

    def cancel_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        experiment = self._changeable(request, pk)
        try:
            services.cancel(experiment)
        except ValidationError as error:
            return self._refused(request, experiment, error)
        self.log_change(request, experiment, "Cancelled.")
        self.message_user(request, f"{experiment} is cancelled; its variants will not be sent.")
        return self._back(experiment)

    def _made(self, request: HttpRequest, notification: Notification, name: str) -> HttpResponse:
        try:
            experiment = services.create(name, notification, request.user)
        except ValidationError as error:
            self.message_user(request, error.messages[0], messages.ERROR)
            url = reverse("admin:campaigns_notification_change", args=[notification.pk])
            return HttpResponseRedirect(url)
        self.log_addition(request, experiment, f"Made from {notification}.")
        self.message_user(
            request, f"{experiment} is made: {notification} is variant A, B is its copy."
        )
        return self._back(experiment)

    def _refused(self, request: HttpRequest, experiment: Experiment, error: ValidationError):
        for message in error.messages:
            self.message_user(request, message, messages.ERROR)
        return self._back(experiment)

    def _back(self, experiment: Experiment) -> HttpResponse:
        url = reverse("admin:experiments_experiment_change", args=[experiment.pk])
        return HttpResponseRedirect(url)

    def _changeable(self, request: HttpRequest, pk: int) -> Experiment:
        experiment = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, experiment):
            raise PermissionDenied
        return experiment

    def _apps(self, request: HttpRequest) -> QuerySet[MobileApp]:
        return membership.apps_of(request.user)


def ab_test_action(request: HttpRequest, notification: Notification) -> Action | None:
    """The notification page's button that makes an A/B test of a campaign's draft."""
    drafted = notification.purpose == Purpose.CAMPAIGN and notification.status == Status.DRAFT
    if not drafted or not request.user.has_perm("experiments.add_experiment"):
        return None
    url = reverse("admin:experiments_from_notification", args=[notification.pk])
    return Action("ab-test", "Make an A/B test", url)
