"""The journey pages: a marketer builds a journey, writes its steps in the composer, activates,
pauses and reads it; an administrator only reads; nobody sees another organization's."""

from __future__ import annotations

import uuid

from django.contrib.admin.models import LogEntry
from django.utils import timezone

from campaigns.models import Delivery, DeliveryStatus, Notification, Status
from devices.registration import register_device
from journeys import events, runner, services
from journeys.models import Journey, JourneyStatus, Step, Trigger
from metrics import rollup
from tests.conftest import logged_in
from tests.html_forms import read_form
from tests.notification_forms import change_url, opened_form, save_draft, schedule

ADD = "/journeys/journey/add/"


def page(pk: int) -> str:
    return f"/journeys/journey/{pk}/change/"


def made(client, app, **fields) -> Journey:
    data = {"app": app.pk, "name": "Welcome", "trigger": Trigger.FIRST_REGISTRATION, **fields}
    response = client.post(ADD, {**data, **_no_steps()})
    assert response.status_code == 302, response.content.decode()[:3000]
    return Journey.objects.latest("created_at")


def _no_steps() -> dict:
    return {
        "steps-TOTAL_FORMS": "0",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }


def with_step(client, journey: Journey, title: str = "Welcome aboard") -> Step:
    response = client.post(f"/journeys/journey/{journey.pk}/steps/add/")
    step = journey.steps.latest("position")
    assert response["Location"].endswith(change_url(step.notification_id))
    form = opened_form(client, change_url(step.notification_id))
    form.update(title_en=title, body_en="Hello {{ user.id | default('there') }}")
    response = save_draft(client, form, change_url(step.notification_id))
    assert response.status_code == 302, response.content.decode()[:3000]
    return step


def test_a_marketer_builds_a_welcome_journey_and_activates_it(bob, retail):
    client = logged_in(bob)
    journey = made(client, retail)
    first = with_step(client, journey)
    second = with_step(client, journey, "Did you know?")

    form = read_form(client.get(page(journey.pk)).content.decode(), "journey_form")
    assert (form["steps-0-wait_amount"], form["steps-0-wait_unit"]) == ("0", "minutes")
    assert (form["steps-1-wait_amount"], form["steps-1-wait_unit"]) == ("1", "days")
    form.update({"steps-1-wait_amount": "3", "steps-1-wait_unit": "hours"})
    assert client.post(page(journey.pk), form).status_code == 302
    second.refresh_from_db()
    assert second.wait.total_seconds() == 3 * 3600

    response = client.post(f"/journeys/journey/{journey.pk}/activate/", follow=True)

    assert "is active" in response.content.decode()
    journey.refresh_from_db()
    assert journey.status == JourneyStatus.ACTIVE
    first.notification.refresh_from_db()
    assert (first.notification.status, first.notification.purpose) == (
        Status.AUTOMATED,
        services.PURPOSE,
    )
    assert LogEntry.objects.filter(object_id=str(journey.pk), change_message="Activated.").exists()


def test_a_steps_composer_page_names_its_journey_and_only_saves(bob, retail):
    client = logged_in(bob)
    step = with_step(client, made(client, retail))

    html = client.get(change_url(step.notification_id)).content.decode()

    assert "step 1 of the journey Welcome" in html
    assert 'name="_schedule"' not in html
    form = opened_form(client, change_url(step.notification_id))
    schedule(client, form, change_url(step.notification_id))
    step.notification.refresh_from_db()
    assert step.notification.status == Status.DRAFT


def test_activation_is_refused_with_what_is_missing(bob, retail):
    client = logged_in(bob)
    journey = made(client, retail, trigger=Trigger.EVENT, event_name="signed_up")
    client.post(f"/journeys/journey/{journey.pk}/steps/add/")

    html = client.post(f"/journeys/journey/{journey.pk}/activate/", follow=True).content.decode()

    assert "Step 1: Write a title or a message in English." in html
    journey.refresh_from_db()
    assert journey.status == JourneyStatus.DRAFT


def test_the_trigger_form_names_each_missing_part(bob, retail, news):
    client = logged_in(bob)
    data = {"app": retail.pk, "name": "Sale", **_no_steps()}

    event = client.post(ADD, {**data, "trigger": Trigger.EVENT}).content.decode()
    segment = client.post(ADD, {**data, "trigger": Trigger.SEGMENT_ENTRY}).content.decode()
    bad_name = client.post(
        ADD, {**data, "trigger": Trigger.EVENT, "event_name": "<script>"}
    ).content.decode()

    assert "Name the event that starts the journey." in event
    assert "Choose the segment whose new members enter the journey." in segment
    assert "An event name is 1 to 128 letters" in bad_name
    assert not Journey.objects.exists()


def test_pausing_makes_steps_editable_and_stops_the_journey(bob, retail):
    client = logged_in(bob)
    journey = made(client, retail)
    step = with_step(client, journey)
    client.post(f"/journeys/journey/{journey.pk}/activate/")
    assert client.get(change_url(step.notification_id)).context["has_change_permission"] is False

    client.post(f"/journeys/journey/{journey.pk}/pause/")

    journey.refresh_from_db()
    assert journey.status == JourneyStatus.PAUSED
    assert client.get(change_url(step.notification_id)).context["has_change_permission"]
    assert "Resume journey" in client.get(page(journey.pk)).content.decode()


def test_the_page_shows_each_steps_figures(bob, retail):
    client = logged_in(bob)
    journey = made(client, retail)
    step = with_step(client, journey)
    client.post(f"/journeys/journey/{journey.pk}/activate/")
    register_device(retail, uuid.uuid4(), {"platform": "ios", "push_token": "ab" * 32})
    runner.run()
    Delivery.objects.update(status=DeliveryStatus.SENT, sent_at=timezone.now())
    Delivery.objects.update(launched_at=timezone.now())
    rollup.refresh(Notification.objects.get(pk=step.notification_id))

    html = client.get(page(journey.pk)).content.decode()

    assert "In the journey: <strong>0</strong> · completed: <strong>1</strong>" in html
    row = html[html.index('<tr class="journey-step">') :]
    row = row[: row.index("</tr>")]
    assert [cell.split("</td>")[0] for cell in row.split("<td>")[2:8]] == [
        "at once",
        "1",
        "1",
        "0",
        "100%",
        "1",
    ]


def test_an_administrator_reads_journeys_and_a_developer_does_not(alice, bob, carol, retail):
    journey = made(logged_in(bob), retail)

    assert logged_in(alice).get(page(journey.pk)).status_code == 200
    assert logged_in(alice).post(f"/journeys/journey/{journey.pk}/activate/").status_code == 403
    assert logged_in(carol).get(page(journey.pk)).status_code == 403


def test_deleting_a_journey_deletes_its_messages_and_who_went_through_it(bob, retail):
    client = logged_in(bob)
    journey = made(client, retail)
    step = with_step(client, journey)
    client.post(f"/journeys/journey/{journey.pk}/activate/")
    register_device(retail, uuid.uuid4(), {"platform": "ios", "push_token": "ab" * 32})
    runner.run()

    response = client.post(f"/journeys/journey/{journey.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Journey.objects.exists()
    assert not Notification.objects.filter(pk=step.notification_id).exists()
    assert not Delivery.objects.exists()


def test_the_events_list_names_each_events_user_and_finds_them_by_user_id(bob, retail):
    for user_id in ("ada", "bo"):
        register_device(retail, uuid.uuid4(), {"platform": "ios", "user_id": user_id})
    events.record(retail, "product_on_sale", user_ids=["ada", "bo"])
    client = logged_in(bob)

    listed = client.get("/events/event/").content.decode()
    found = client.get("/events/event/", {"q": "ada"}).content.decode()

    assert ">ada<" in listed and ">bo<" in listed
    assert ">ada<" in found and ">bo<" not in found
    assert client.get("/events/event/add/").status_code == 403


def with_wait(client, journey: Journey, event_name: str) -> Step:
    url = f"/journeys/journey/{journey.pk}/steps/add-wait/"
    response = client.post(url, {"wait_event_name": event_name}, follow=True)
    assert response.status_code == 200
    return journey.steps.latest("position")


def branched(client, retail) -> Journey:
    """Wait for a purchase; thank buyers (step 3), remind the others (step 2, then the end)."""
    journey = made(client, retail, trigger=Trigger.EVENT, event_name="cart_abandoned")
    with_wait(client, journey, "purchase")
    with_step(client, journey, "Come back")
    with_step(client, journey, "Thanks")
    return journey


def test_a_marketer_adds_a_wait_for_an_event_and_points_its_ways(bob, retail):
    client = logged_in(bob)
    journey = branched(client, retail)
    form = read_form(client.get(page(journey.pk)).content.decode(), "journey_form")
    form.update(
        {
            "steps-0-wait_amount": "2",
            "steps-0-wait_unit": "days",
            "steps-0-then_way": "3",
            "steps-0-else_way": "2",
            "steps-0-event_conditions": "plan=gold, source = app",
            "steps-1-then_way": "0",
            "exit_events": "unsubscribed, account_closed",
        }
    )

    response = client.post(page(journey.pk), form)

    assert response.status_code == 302, response.content.decode()[:3000]
    wait, remind, _ = journey.steps.all()
    assert (wait.kind, wait.event_name, wait.then_step, wait.else_step) == (
        "wait_for_event",
        "purchase",
        3,
        2,
    )
    assert wait.wait.days == 2 and remind.then_step == 0
    assert wait.event_conditions == {"plan": "gold", "source": "app"}
    journey.refresh_from_db()
    assert journey.exit_events == ["unsubscribed", "account_closed"]
    html = client.get(page(journey.pk)).content.decode()
    assert read_form(html, "journey_form")["steps-0-event_conditions"] == "plan=gold, source=app"
    assert "wait up to 2 days for the event “purchase” with plan = gold and source = app" in html
    assert "If the event came → step 3" in html and "Else, timed out → step 2" in html
    assert "the event “unsubscribed” comes, the event “account_closed” comes" in html


def test_a_wait_without_an_event_or_a_bad_way_is_refused_on_the_page(bob, retail):
    client = logged_in(bob)
    journey = branched(client, retail)

    refused = client.post(
        f"/journeys/journey/{journey.pk}/steps/add-wait/", {"wait_event_name": ""}, follow=True
    ).content.decode()
    form = read_form(client.get(page(journey.pk)).content.decode(), "journey_form")
    form.update({"steps-0-event_name": "", "steps-2-then_way": "1"})
    invalid = client.post(page(journey.pk), form).content.decode()
    form.update({"steps-0-event_name": "purchase", "steps-0-event_conditions": "gold"})
    unparsed = client.post(page(journey.pk), form).content.decode()

    assert "Step 4, event: An event name is 1 to 128" in refused
    assert "An event name is 1 to 128" in invalid
    assert "Select a valid choice. 1 is not one of the available choices." in invalid
    assert "Write each condition as key=value, separated by commas." in unparsed
    assert journey.steps.count() == 3
    assert journey.steps.get(position=1).event_name == "purchase"


def test_bad_exits_are_refused_naming_the_field(bob, retail, news):
    client = logged_in(bob)
    journey = branched(client, retail)
    theirs = news.segments.create(name="Theirs", definition="userId startswith 's'")
    form = read_form(client.get(page(journey.pk)).content.decode(), "journey_form")

    answers = []
    for change in (
        {"exit_events": "cart_abandoned"},
        {"exit_events": "gone, gone"},
        {"exit_events": "a, b, c, d, e, f"},
        {"exit_segment": str(theirs.pk)},
    ):
        answers.append(client.post(page(journey.pk), {**form, **change}).content.decode())

    assert "&#x27;cart_abandoned&#x27; starts this journey" in answers[0]
    assert "Name each exit event once." in answers[1]
    assert "A list of at most 5 event names." in answers[2]
    assert "Choose a segment of" in answers[3]
    journey.refresh_from_db()
    assert (journey.exit_events, journey.exit_segment) == ([], None)


def test_an_active_journey_shows_its_ways_read_only(bob, retail):
    client = logged_in(bob)
    journey = branched(client, retail)
    client.post(f"/journeys/journey/{journey.pk}/activate/")

    html = client.get(page(journey.pk)).content.decode()

    assert "if it came: step 2; else: step 2" in html
    assert 'name="steps-0-then_way"' not in html
    assert "add-wait-step-button" not in html
