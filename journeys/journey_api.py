"""The journeys API: read a journey's flow with its figures; change its waits, branches and exits.

A journey's trigger and its messages are set up on the dashboard (the messages in the
composer); here an app's backend reads how people move through it and, while it is not
active, reshapes the flow: adds steps, waits for events, where each way leads, and its exits.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.api import Conflict
from devices.authentication import app_of
from devices.models import MobileApp
from devices.serializers import StrictSerializer, TextField
from journeys import event_rules, flow, results, services
from journeys.models import EndReason, Journey, JourneyStatus, Step, StepKind
from pushcenter.api_schema import ErrorSerializer
from segments.models import Segment

MAX_WAIT_MINUTES = flow.MAX_WAIT.days * 24 * 60
MAX_JOURNEYS_LISTED = 100
MAX_ID_DIGITS = 18
CONDITIONS_HELP = (
    "A wait: the event counts only if each of these properties (at most 5) has this value, "
    "compared as text: gold, 30, true."
)
TARGET_HELP = (
    "Where it leads: a later step's position, 0 to end the journey, null for the next step."
)


class StepSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=StepKind.choices)
    wait_minutes = serializers.IntegerField(
        help_text="A message: minutes after the previous step (or entering). A wait for an "
        "event: the most minutes it waits (its timeout)."
    )
    notification_id = serializers.IntegerField(allow_null=True, help_text="A message's id.")
    event_name = serializers.CharField(help_text="A wait: the event it waits for.")
    event_conditions = serializers.DictField(
        child=serializers.CharField(), help_text=CONDITIONS_HELP
    )
    then_step = serializers.IntegerField(
        allow_null=True, help_text=f"A message: after it; a wait: if the event came. {TARGET_HELP}"
    )
    else_step = serializers.IntegerField(
        allow_null=True, help_text=f"A wait: if it timed out. {TARGET_HELP}"
    )
    reached = serializers.IntegerField(help_text="People who got to this step.")
    sent = serializers.IntegerField(help_text="A message: deliveries sent.")
    launches = serializers.IntegerField(help_text="A message: app launches from it.")
    waiting = serializers.IntegerField(help_text="People at this step now.")
    event_came = serializers.IntegerField(help_text="A wait: people who went the 'then' way.")
    timed_out = serializers.IntegerField(help_text="A wait: people who went the 'else' way.")
    exited = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="People who left the journey at this step, by reason (exit_event, left_segment).",
    )


class JourneySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    trigger = serializers.CharField()
    event_name = serializers.CharField()
    status = serializers.ChoiceField(choices=JourneyStatus.choices)
    exit_events = serializers.ListField(child=serializers.CharField())
    exit_segment = serializers.CharField(allow_null=True, help_text="The exit segment's name.")
    enrollments = serializers.DictField(
        child=serializers.IntegerField(), help_text="People by status: active, completed, exited."
    )
    ended = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Ended passes by reason: completed, timed_out, exit_event, left_segment.",
    )
    steps = StepSerializer(many=True)


class JourneyListSerializer(serializers.Serializer):
    values = JourneySerializer(many=True)


class StepChangeSerializer(StrictSerializer):
    position = serializers.IntegerField(min_value=1, max_value=32767)
    wait_minutes = serializers.IntegerField(required=False, min_value=0, max_value=MAX_WAIT_MINUTES)
    event_name = TextField(required=False, max_length=event_rules.MAX_NAME, trim_whitespace=False)
    event_conditions = serializers.DictField(
        child=TextField(
            max_length=flow.MAX_CONDITION_VALUE, trim_whitespace=False, allow_blank=True
        ),
        required=False,
        help_text=CONDITIONS_HELP,
    )
    then_step = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=32767, help_text=TARGET_HELP
    )
    else_step = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=32767, help_text=TARGET_HELP
    )


class JourneyChangeSerializer(StrictSerializer):
    exit_events = serializers.ListField(
        child=TextField(max_length=event_rules.MAX_NAME, trim_whitespace=False),
        required=False,
        max_length=flow.MAX_EXIT_EVENTS,
        help_text="Events that end a person's journey at once (at most 5; not the trigger).",
    )
    exit_segment = TextField(
        required=False,
        allow_null=True,
        max_length=128,
        help_text="The name of a segment of the app: a person whose device leaves it leaves the "
        "journey at once. null for none.",
    )
    steps = StepChangeSerializer(
        many=True,
        required=False,
        max_length=services.MAX_STEPS,
        help_text="Changes to existing steps, by position; steps not listed stay as they are.",
    )


class StepAddSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=StepKind.choices)
    event_name = TextField(
        required=False, max_length=event_rules.MAX_NAME, trim_whitespace=False, default=""
    )
    wait_minutes = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_WAIT_MINUTES,
        help_text="A wait for an event: its timeout (3 days if left out).",
    )


CHANGE_EXAMPLE = OpenApiExample(
    "Branch on a purchase and exit on unsubscribing",
    request_only=True,
    value={
        "exit_events": ["unsubscribed"],
        "exit_segment": None,
        "steps": [{"position": 1, "event_name": "purchase", "then_step": 3, "else_step": 2}],
    },
)


def journey_json(journey: Journey) -> dict[str, object]:
    """Describe a journey's flow with its figures."""
    return {
        "id": journey.pk,
        "name": journey.name,
        "trigger": journey.trigger,
        "event_name": journey.event_name,
        "status": journey.status,
        "exit_events": journey.exit_events,
        "exit_segment": journey.exit_segment.name if journey.exit_segment else None,
        "enrollments": results.enrollments(journey),
        "ended": results.ended_by_reason(journey),
        "steps": [_step_json(result) for result in results.steps(journey)],
    }


def _step_json(result: results.StepResult) -> dict[str, object]:
    step, codes = result.step, {label: code for code, label in EndReason.choices}
    return {
        "position": step.position,
        "kind": step.kind,
        "wait_minutes": int(step.wait.total_seconds() // 60),
        "notification_id": step.notification_id,
        "event_name": step.event_name,
        "event_conditions": step.event_conditions,
        "then_step": step.then_step,
        "else_step": step.else_step,
        "reached": result.reached,
        "sent": result.sent,
        "launches": result.launches,
        "waiting": result.waiting,
        "event_came": step.event_came,
        "timed_out": step.timed_out,
        "exited": {codes[label]: n for label, n in result.exited.items()},
    }


class JourneyListView(APIView):
    @extend_schema(
        operation_id="Journeys_List",
        summary="List the app's journeys (the newest 100) with their flows and figures",
        responses=JourneyListSerializer,
    )
    def get(self, request: Request, app_id: str) -> Response:
        app = app_of(request, app_id)
        journeys = Journey.objects.filter(app=app).select_related("exit_segment")
        values = [journey_json(j) for j in journeys[:MAX_JOURNEYS_LISTED]]
        return Response({"values": values})


class JourneyView(APIView):
    @extend_schema(
        operation_id="Journeys_Get",
        summary="Read a journey: its steps, branches and exits, with each step's figures",
        responses=JourneySerializer,
    )
    def get(self, request: Request, app_id: str, journey_id: str) -> Response:
        return Response(journey_json(_journey(app_of(request, app_id), journey_id)))

    @extend_schema(
        operation_id="Journeys_Change",
        summary="Change a journey's waits, branches and exits while it is not active",
        description="Changes the listed steps (by position) and the exits together, or nothing: "
        "a branch leads forward to a step that exists (or 0, the end); a wait for an event "
        "names its event and times out after 1 minute to 90 days. An active journey answers "
        "409: pause it on the dashboard first. People in a paused journey keep their "
        "positions and go on the new ways when it resumes.",
        request=JourneyChangeSerializer,
        responses={200: JourneySerializer, 409: ErrorSerializer},
        examples=[CHANGE_EXAMPLE],
    )
    def patch(self, request: Request, app_id: str, journey_id: str) -> Response:
        journey = _journey(app_of(request, app_id), journey_id)
        body = JourneyChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            _change(journey, body.validated_data)
        journey.refresh_from_db()
        return Response(journey_json(journey))


class JourneyStepsView(APIView):
    @extend_schema(
        operation_id="Journeys_AddStep",
        summary="Add a step at the end of a journey that is not active",
        description="A message step comes with an empty message to write on the dashboard; "
        "a wait for an event waits up to wait_minutes for event_name and, as added, goes on "
        "to the next step either way. At most 10 steps.",
        request=StepAddSerializer,
        responses={201: StepSerializer, 409: ErrorSerializer},
    )
    def post(self, request: Request, app_id: str, journey_id: str) -> Response:
        journey = _journey(app_of(request, app_id), journey_id)
        body = StepAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            if data["kind"] == StepKind.MESSAGE:
                step = services.add_step(journey)
            else:
                timeout = timedelta(minutes=data.get("wait_minutes", 0)) or services.EVENT_TIMEOUT
                step = services.add_wait_step(journey, data["event_name"], timeout)
        except ValidationError as error:
            raise _refusal(error, None) from None
        result = next(r for r in results.steps(journey) if r.step.pk == step.pk)
        return Response(_step_json(result), status=status.HTTP_201_CREATED)


def _journey(app: MobileApp, journey_id: str) -> Journey:
    journey = None
    # An id is a positive integer that fits the column; anything else names no journey.
    if journey_id.isascii() and journey_id.isdigit() and len(journey_id) <= MAX_ID_DIGITS:
        found = Journey.objects.filter(app=app, pk=int(journey_id))
        journey = found.select_related("exit_segment").first()
    if journey is None:
        raise exceptions.NotFound("No such journey in this app.")
    return journey


def _change(journey: Journey, data: dict) -> None:
    """Apply the changes through the journey services, or raise the first refusal."""
    if journey.status == JourneyStatus.ACTIVE:
        raise Conflict("Pause the journey to change its steps.")
    steps = list(journey.steps.all())
    index_of = {change["position"]: i for i, change in enumerate(data.get("steps", []))}
    try:
        if "exit_events" in data or "exit_segment" in data:
            segment = _segment(journey, data.get("exit_segment", _name(journey.exit_segment)))
            services.set_exits(journey, data.get("exit_events", journey.exit_events), segment)
        if "steps" in data:
            services.save_steps(journey, _changed(steps, data["steps"]))
    except ValidationError as error:
        raise _refusal(error, index_of) from None


def _changed(steps: list[Step], changes: list[dict]) -> list[Step]:
    by_position = {step.position: step for step in steps}
    for index, change in enumerate(changes):
        step = by_position.get(change["position"])
        if step is None:
            raise _invalid(f"steps.{index}.position", f"There is no step {change['position']}.")
        if "wait_minutes" in change:
            step.wait = timedelta(minutes=change["wait_minutes"])
        for field in ("then_step", "else_step", "event_name", "event_conditions"):
            if field in change and (field == "then_step" or step.kind == StepKind.WAIT_FOR_EVENT):
                setattr(step, field, change[field])
            elif field in change:
                raise _invalid(f"steps.{index}.{field}", "Only a wait for an event has this.")
    return steps


def _segment(journey: Journey, name: str | None) -> Segment | None:
    if name is None:
        return None
    segment = Segment.objects.filter(app_id=journey.app_id, name=name).first()
    if segment is None:
        raise _invalid("exit_segment", f"The app has no segment named {name!r}.")
    return segment


def _name(segment: Segment | None) -> str | None:
    return segment.name if segment else None


def _refusal(error: ValidationError, index_of: dict[int, int] | None) -> exceptions.APIException:
    """Turn a service's refusal into the API's: 409 while active, else 400 naming the field.

    `index_of` maps a position to its index in the request's steps; None when the request is
    one step's body.
    """
    if isinstance(error, services.ActiveJourney):
        return Conflict(error.messages[0])
    if not hasattr(error, "error_dict"):
        return _invalid(None, error.messages[0])
    where, messages = next(iter(error.message_dict.items()))
    if where.startswith("step "):
        position, field = where.removeprefix("step ").split(": ")
        field = "wait_minutes" if field == "wait" else field
        if index_of is None:
            where = field
        elif int(position) in index_of:
            where = f"steps.{index_of[int(position)]}.{field}"
        else:  # a step the request did not list, such as one leading to a step it moved
            where = f"steps.{field}"
    return _invalid(where, messages[0])


def _invalid(field: str | None, message: str) -> serializers.ValidationError:
    if field is None:
        return serializers.ValidationError([message])
    detail: object = [message]
    for part in reversed(field.split(".")):
        detail = {part: detail}
    return serializers.ValidationError(detail)
