"""The journey pages: trigger, steps with their waits and messages, activate and pause, and
each step's figures; and the app's Segment.com shared secret, an inline of the app's page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from devices import membership
from devices.admin import AppSettingsInline
from devices.models import MobileApp
from journeys import flow, results, services
from journeys.forms import (
    JourneyForm,
    SegmentComSourceForm,
    StepForm,
    StepFormSet,
    conditions_text,
    wait_label,
)
from journeys.models import Journey, JourneyStatus, SegmentComSource, Step, StepKind
from pushcenter.admin_deletion import CountedDeletion
from segments.models import Segment


class StepInline(admin.TabularInline):
    model = Step
    form = StepForm
    formset = StepFormSet
    fields = [
        "position",
        "kind",
        "wait_amount",
        "wait_unit",
        "event_name",
        "event_conditions",
        "then_way",
        "else_way",
        "message",
    ]
    readonly_fields = ["position", "kind", "message"]
    extra = 0
    can_delete = False
    verbose_name_plural = (
        "Steps (a message is sent its wait after the previous step, or after entering; a wait "
        "for an event waits up to its wait, then goes the 'then' way if the event came and the "
        "'else' way if not)"
    )

    @admin.display(description="Message")
    def message(self, step: Step) -> str:
        notification = step.notification
        if notification is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a> <span class="help">{}</span>',
            reverse("admin:campaigns_notification_change", args=[notification.pk]),
            notification.text("title", notification.default_language) or "(no title yet)",
            notification.text("body", notification.default_language)[:80],
        )

    def has_add_permission(self, request: HttpRequest, obj: Journey | None = None) -> bool:
        return False

    @admin.display(description="Sent after")
    def sent_after(self, step: Step) -> str:
        return wait_label(step.wait)

    @admin.display(description="Event")
    def waits_for(self, step: Step) -> str:
        if not step.event_name:
            return "—"
        conditions = conditions_text(step.event_conditions)
        return f"{step.event_name} if {conditions}" if conditions else step.event_name

    @admin.display(description="Ways on")
    def ways(self, step: Step) -> str:
        ordered = list(step.journey.steps.all())
        then = results.way_label(flow.target(ordered, step, step.then_step))
        if step.kind != StepKind.WAIT_FOR_EVENT:
            return f"then {then}"
        otherwise = results.way_label(flow.target(ordered, step, step.else_step))
        return f"if it came: {then}; else: {otherwise}"

    ACTIVE_FIELDS = ["position", "kind", "sent_after", "waits_for", "ways", "message"]

    def get_readonly_fields(self, request: HttpRequest, obj: Journey | None = None) -> list:
        if obj is not None and obj.status == JourneyStatus.ACTIVE:
            return self.ACTIVE_FIELDS
        return self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: Journey | None = None) -> list:
        if obj is not None and obj.status == JourneyStatus.ACTIVE:
            return self.ACTIVE_FIELDS
        return self.fields


@admin.register(Journey)
class JourneyAdmin(CountedDeletion, admin.ModelAdmin):
    form = JourneyForm
    inlines = [StepInline]
    change_form_template = "admin/journeys/journey/change_form.html"
    list_display = ["name", "app", "trigger", "status", "in_journey", "completed", "updated_at"]
    list_filter = ["status", "trigger", ("app", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "event_name"]
    fields = [
        "app",
        "name",
        "trigger",
        "event_name",
        "segment",
        "exit_events",
        "exit_segment",
        "status",
        "activated_at",
    ]
    readonly_fields = ["status", "activated_at"]

    @admin.display(description="In the journey")
    def in_journey(self, obj: Journey) -> int:
        return obj.active_count

    @admin.display(description="Completed")
    def completed(self, obj: Journey) -> int:
        return obj.completed_count

    def get_queryset(self, request: HttpRequest) -> QuerySet[Journey]:
        journeys = super().get_queryset(request).filter(app__in=self._apps(request))
        return journeys.select_related("app__organization").annotate(
            active_count=Count("enrollments", filter=Q(enrollments__status="active")),
            completed_count=Count("enrollments", filter=Q(enrollments__status="completed")),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Journey | None = None) -> list:
        fixed = []
        if obj is not None and obj.status != JourneyStatus.DRAFT:
            # Who enters is fixed once it has run; a new trigger is a new journey.
            fixed = ["app", "trigger", "event_name", "segment"]
        if obj is not None and obj.status == JourneyStatus.ACTIVE:
            fixed += ["exit_events", "exit_segment"]
        return [*self.readonly_fields, *fixed]

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: object):
        if db_field.name == "app":
            kwargs["queryset"] = self._apps(request)
        if db_field.name in ("segment", "exit_segment"):
            kwargs["queryset"] = Segment.objects.filter(app__in=self._apps(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def deletion_roots(self, obj: Journey) -> list:
        return [obj, *services.messages(obj)]

    def delete_model(self, request: HttpRequest, obj: Journey) -> None:
        services.delete(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Journey]) -> None:
        for journey in queryset:
            services.delete(journey)

    def response_add(self, request: HttpRequest, obj: Journey, post_url_continue=None):
        # A new journey goes on to its page, to add its steps.
        return HttpResponseRedirect(reverse("admin:journeys_journey_change", args=[obj.pk]))

    def render_change_form(self, request: HttpRequest, context: dict, *args, **kwargs):
        journey = kwargs.get("obj")
        if journey is not None:
            context["enrollments"] = results.enrollments(journey)
            context["ended"] = results.ended(journey)
            context["step_results"] = results.steps(journey)
            if journey.status != JourneyStatus.ACTIVE:
                context["problems"] = services.problems(journey)
        return super().render_change_form(request, context, *args, **kwargs)

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/steps/add/",
                view(require_POST(self.add_step_view)),
                name="journeys_add_step",
            ),
            path(
                "<int:pk>/steps/add-wait/",
                view(require_POST(self.add_wait_step_view)),
                name="journeys_add_wait_step",
            ),
            path(
                "<int:pk>/steps/<int:step_pk>/remove/",
                view(require_POST(self.remove_step_view)),
                name="journeys_remove_step",
            ),
            path(
                "<int:pk>/activate/",
                view(require_POST(self.activate_view)),
                name="journeys_activate",
            ),
            path("<int:pk>/pause/", view(require_POST(self.pause_view)), name="journeys_pause"),
            *super().get_urls(),
        ]

    def add_step_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Add a step and open its message in the composer."""
        journey = self._changeable(request, pk)
        try:
            step = services.add_step(journey)
        except ValidationError as error:
            return self._refused(request, journey, error)
        self.log_change(request, journey, f"Added step {step.position}.")
        url = reverse("admin:campaigns_notification_change", args=[step.notification_id])
        return HttpResponseRedirect(url)

    def add_wait_step_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Add a wait for the event named in the form beside the button."""
        journey = self._changeable(request, pk)
        name = request.POST.get("wait_event_name", "").strip()
        try:
            step = services.add_wait_step(journey, name)
        except ValidationError as error:
            return self._refused(request, journey, error)
        self.log_change(request, journey, f"Added step {step.position}, a wait for {name}.")
        return self._back(journey)

    def remove_step_view(self, request: HttpRequest, pk: int, step_pk: int) -> HttpResponse:
        journey = self._changeable(request, pk)
        step = get_object_or_404(journey.steps, pk=step_pk)
        try:
            services.remove_step(step)
        except ValidationError as error:
            return self._refused(request, journey, error)
        self.log_change(request, journey, f"Removed step {step.position}.")
        return self._back(journey)

    def activate_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        journey = self._changeable(request, pk)
        resumed = journey.status == JourneyStatus.PAUSED
        try:
            services.activate(journey)
        except ValidationError as error:
            return self._refused(request, journey, error)
        self.log_change(request, journey, "Resumed." if resumed else "Activated.")
        self.message_user(request, f"{journey} is active: people enter as its trigger fires.")
        return self._back(journey)

    def pause_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        journey = self._changeable(request, pk)
        services.pause(journey)
        self.log_change(request, journey, "Paused.")
        self.message_user(
            request, f"{journey} is paused: no one enters and nothing is sent until it resumes."
        )
        return self._back(journey)

    def _refused(self, request: HttpRequest, journey: Journey, error: ValidationError):
        named = error.message_dict.items() if hasattr(error, "error_dict") else [("", error)]
        for where, errors in named:
            for message in ValidationError(errors).messages:
                text = f"{_where_label(where)}: {message}" if where else message
                self.message_user(request, text, messages.ERROR)
        return self._back(journey)

    def _back(self, journey: Journey) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:journeys_journey_change", args=[journey.pk]))

    def _changeable(self, request: HttpRequest, pk: int) -> Journey:
        journey = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, journey):
            raise PermissionDenied
        return journey

    def _apps(self, request: HttpRequest) -> QuerySet[MobileApp]:
        return membership.apps_of(request.user)


# The step fields a refusal names ("step 4: event_name"), as the page labels them.
FIELD_LABELS = {
    "event_name": "event",
    "event_conditions": "if",
    "wait": "wait",
    "then_step": "then",
    "else_step": "else",
}


def _where_label(where: str) -> str:
    """Write "step 4: event_name" as "Step 4, event"."""
    step, _, field = where.partition(": ")
    return f"{step.capitalize()}, {FIELD_LABELS.get(field, field)}" if field else where


class SegmentComSourceInline(AppSettingsInline):
    """The app's Segment.com shared secret, write-only, on the app's page."""

    model = SegmentComSource
    form = SegmentComSourceForm
    fieldsets = [
        (
            None,
            {
                "description": "Segment.com's Webhooks destination posts each call to "
                "/api/v1/apps/&lt;Application ID&gt;/segment on this server, signed with this "
                "shared secret; track calls become events and identify calls custom properties.",
                "fields": ["shared_secret", "clear_shared_secret"],
            },
        )
    ]
