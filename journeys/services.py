"""Journeys for the dashboard and the API: add, change and remove steps, activate, pause, resume.

A step's message is a notification (purpose "journey", registered with campaigns in
JourneysConfig.ready()) edited in the composer. While the
journey is active its steps are automated (read-only, sent one person at a time); pausing
makes them drafts again, to edit, and stops new entries and sends until it resumes.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from campaigns import composition
from campaigns.extensions import PartOf
from campaigns.models import Notification, Status
from journeys import enrollment, flow
from journeys.event_rules import RuleError
from journeys.models import Journey, JourneyStatus, Step, StepKind, Trigger
from segments import services as segments
from segments.models import Segment

# The purpose of a step's notification (Notification.purpose), registered with campaigns.
PURPOSE = "journey"
MAX_STEPS = 10
# A new step after the first waits a day, the usual pace of a welcome series.
LATER_STEP_WAIT = timedelta(days=1)
# A new wait for an event waits up to three days, a common window for an abandoned cart.
EVENT_TIMEOUT = timedelta(days=3)


@transaction.atomic
def add_step(journey: Journey) -> Step:
    """Add a message step at the end, with an empty message for the marketer to write."""
    journey, position = _next_position(journey)
    message = Notification.objects.create(
        app=journey.app,
        name=f"{journey.name} · step {position}"[:128],
        purpose=PURPOSE,
        platforms=journey.app.platforms() or ["ios", "android", "windows"],
    )
    wait = LATER_STEP_WAIT if position > 1 else timedelta(0)
    return Step.objects.create(journey=journey, position=position, wait=wait, notification=message)


@transaction.atomic
def add_wait_step(journey: Journey, event_name: str, timeout: timedelta = EVENT_TIMEOUT) -> Step:
    """Add at the end a step that waits up to `timeout` for the event, then goes on either way."""
    journey, position = _next_position(journey)
    step = Step(
        journey=journey,
        position=position,
        kind=StepKind.WAIT_FOR_EVENT,
        event_name=event_name,
        wait=timeout,
    )
    errors = flow.branch_errors([step])
    if errors:
        raise ValidationError(errors)
    step.save()
    return step


def _next_position(journey: Journey) -> tuple[Journey, int]:
    """Lock a journey that is not active and has room for a step; return the next position."""
    journey = Journey.objects.select_for_update().get(pk=journey.pk)
    _require_not_active(journey)
    steps = list(journey.steps.all())
    if len(steps) >= MAX_STEPS:
        raise ValidationError(f"A journey has at most {MAX_STEPS} steps.")
    return journey, steps[-1].position + 1 if steps else 1


@transaction.atomic
def save_steps(journey: Journey, steps: list[Step]) -> None:
    """Store changed steps (waits, events, branches) of a journey that is not active.

    `steps` are all the journey's steps, changed in memory. Positions never change, so the
    people of a paused journey stay where they are; a changed branch leads those waiting at
    it the new way when they go on. Raises ValidationError keyed "step N: field".
    """
    _require_not_active(Journey.objects.select_for_update().get(pk=journey.pk))
    errors = flow.branch_errors(steps)
    if errors:
        raise ValidationError(errors)
    fields = ["wait", "event_name", "event_conditions", "then_step", "else_step"]
    Step.objects.bulk_update(steps, fields)


@transaction.atomic
def set_exits(journey: Journey, exit_events: list[str], exit_segment: Segment | None) -> None:
    """Set the events and the segment whose leaving end a person's journey at once.

    Raises ValidationError keyed by the field that breaks a rule; changes nothing then.
    """
    journey = Journey.objects.select_for_update().get(pk=journey.pk)
    _require_not_active(journey)
    try:
        flow.check_exit_events(exit_events, journey.event_name)
    except RuleError as error:
        raise ValidationError({"exit_events": str(error)}) from None
    if exit_segment is not None and exit_segment.app_id != journey.app_id:
        raise ValidationError({"exit_segment": f"Choose a segment of {journey.app}."})
    journey.exit_events, journey.exit_segment = exit_events, exit_segment
    journey.save(update_fields=["exit_events", "exit_segment", "updated_at"])


@transaction.atomic
def remove_step(step: Step) -> None:
    """Remove a step of a journey that is not active; its message goes with it."""
    _require_not_active(Journey.objects.select_for_update().get(pk=step.journey_id))
    leading = [
        f"step {other.position}"
        for other in step.journey.steps.exclude(pk=step.pk)
        if step.position in (other.then_step, other.else_step)
    ]
    if leading:
        raise ValidationError(
            f"Step {step.position} is where {', '.join(leading)} leads; change that first."
        )
    if step.notification is None:
        step.delete()
        return
    if step.notification.started_at:
        raise ValidationError("This step has sent messages; pause the journey and keep it.")
    step.notification.delete()


def describe_step(notification: Notification) -> PartOf:
    """Name the journey a step's notification belongs to, for the notification's page."""
    step = notification.journey_step
    return PartOf(
        what=f"step {step.position} of the journey {step.journey}",
        url=reverse("admin:journeys_journey_change", args=[step.journey_id]),
        note="The journey sends it to each person in turn; schedule and expiry do not apply. "
        "Its customer group and filters narrow who of the journey's people receive it.",
    )


def problems(journey: Journey) -> list[str]:
    """List why the journey cannot be activated as it is."""
    found = []
    if journey.trigger == Trigger.EVENT and not journey.event_name:
        found.append("Name the event that starts the journey.")
    if journey.trigger == Trigger.SEGMENT_ENTRY and journey.segment_id is None:
        found.append("Choose the segment whose new members enter the journey.")
    elif journey.trigger == Trigger.SEGMENT_ENTRY:
        error = segments.segment_error(journey.segment)
        if error:
            found.append(f"The segment {journey.segment} cannot be evaluated: {error}")
    steps = list(journey.steps.select_related("notification"))
    if not steps:
        found.append("Add at least one step.")
    found.extend(
        f"{where[0].upper()}{where[1:]}: {error}"
        for where, error in _flow_errors(journey, steps).items()
    )
    for step in steps:
        if step.notification is None:
            continue
        for messages in composition.problems(step.notification).values():
            found.extend(f"Step {step.position}: {message}" for message in messages)
    return found


def _flow_errors(journey: Journey, steps: list[Step]) -> dict[str, str]:
    errors = flow.branch_errors(steps)
    try:
        flow.check_exit_events(journey.exit_events, journey.event_name)
    except RuleError as error:
        errors["exit_events"] = str(error)
    if journey.exit_segment_id is not None:
        error = segments.segment_error(journey.exit_segment)
        if error:
            errors["exit_segment"] = (
                f"The segment {journey.exit_segment} cannot be evaluated: {error}"
            )
    return errors


@transaction.atomic
def activate(journey: Journey) -> None:
    """Start (or resume) the journey: its steps become automated and its trigger listens."""
    journey = Journey.objects.select_for_update().get(pk=journey.pk)
    if journey.status == JourneyStatus.ACTIVE:
        return
    found = problems(journey)
    if found:
        raise ValidationError(found)
    now = timezone.now()
    for step in journey.steps.select_related("notification").exclude(notification__isnull=True):
        message = step.notification
        message.status, message.started_at = Status.AUTOMATED, message.started_at or now
        message.save(update_fields=["status", "started_at", "updated_at"])
    first_time = journey.activated_at is None
    journey.status, journey.scanned_at = JourneyStatus.ACTIVE, now
    journey.activated_at = journey.activated_at or now
    journey.save(update_fields=["status", "scanned_at", "activated_at", "updated_at"])
    if first_time and journey.trigger == Trigger.SEGMENT_ENTRY:
        enrollment.mark_present_members(journey, now)


@transaction.atomic
def pause(journey: Journey) -> None:
    """Stop entries and sends; the steps become editable drafts until the journey resumes."""
    journey = Journey.objects.select_for_update().get(pk=journey.pk)
    if journey.status != JourneyStatus.ACTIVE:
        return
    messages(journey).update(status=Status.DRAFT, updated_at=timezone.now())
    journey.status = JourneyStatus.PAUSED
    journey.save(update_fields=["status", "updated_at"])


def messages(journey: Journey) -> QuerySet[Notification]:
    """The notifications of the journey's steps."""
    return Notification.objects.filter(journey_step__journey=journey)


@transaction.atomic
def delete(journey: Journey) -> None:
    """Delete a journey with its steps' messages, their deliveries and figures."""
    messages(journey).delete()
    journey.delete()


class ActiveJourney(ValidationError):
    """The journey is active: its flow changes only while it is paused (or a draft)."""


def _require_not_active(journey: Journey) -> None:
    # Mid-journey people keep their positions; changing the flow under them as they move
    # would send some the old way and some the new, so it waits for a pause.
    if journey.status == JourneyStatus.ACTIVE:
        raise ActiveJourney("Pause the journey to change its steps.")
