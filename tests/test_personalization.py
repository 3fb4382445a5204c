"""Personalized push text: what a text may read, what it renders, and what each mistake is told."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from campaigns.personalization import (
    MAX_OUTPUT_LENGTH,
    MAX_TEXT_LENGTH,
    PersonalizationError,
    check_text,
    device_context,
    has_tokens,
    render_text,
    sample_context,
)
from devices.models import Device, DeviceStatus, MobileApp

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
TYPES = {"first_name": "string", "dog-lover": "boolean", "score": "number"}
CONTEXT = {
    "user": {"id": "u-1", "first_name": "Ana", "dog-lover": True, "score": 3.0},
    "device": {"platform": "android", "carrier_country": "PT", "os_api_level": 34},
    "app": {"name": "retail", "display_name": "Retail"},
}


@pytest.fixture
def dogs(retail) -> MobileApp:
    """The retail app, declaring a name, a hyphenated boolean and a number."""
    retail.custom_property_types = TYPES
    retail.save()
    return retail


def device(app: MobileApp, **columns: object) -> Device:
    columns.setdefault("platform", "ios")
    columns.setdefault("first_seen", NOW - timedelta(days=30))
    columns.setdefault("last_seen", NOW)
    return Device.objects.create(app=app, install_id=uuid.uuid4(), **columns)


def check_error(text: str, app: MobileApp) -> str:
    with pytest.raises(PersonalizationError) as raised:
        check_text(text, app)
    return raised.value.message


def render_error(text: str, context: dict | None = None) -> str:
    with pytest.raises(PersonalizationError) as raised:
        render_text(text, CONTEXT if context is None else context)
    return raised.value.message


def with_user(**user: object) -> dict:
    return {**CONTEXT, "user": user}


# --- Composing ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    [
        "Plain text, no tokens",
        "Hi {{ user.first_name | default('there') }}",
        "{{ user['dog-lover'] }} {{ user.id }} {{ user.score | round(1) | int }}",
        "{{ device.carrier_country }} {{ device.os_version }} {{ device.model }}",
        "{{ app.display_name | upper }} {{ app['name'] | d('x') | trim | title }}",
        "{% if user['dog-lover'] and not device.platform == 'ios' %}Woof{% elif user.score >= -1 "
        "%}Meow{% else %}Hi{% endif %}",
        "{{ 'Hi ' ~ user.first_name ~ '!' if user.first_name else 'Hello!' }}",
        "{{ user.first_name | truncate(10, end='…') | replace('a', 'b') | lower | capitalize }}",
        "{{ user.score | float | string }} {# a note for colleagues #}",
        "{% if device.locale in 'en-US en-GB' %}US or UK{% endif %}",
    ],
)
def test_it_accepts_the_allowed_tokens(dogs, text):
    check_text(text, dogs)


@pytest.mark.django_db
def test_it_names_an_unknown_property_and_lists_the_users(dogs):
    assert check_error("Hi {{ user.frist_name }}", dogs) == (
        "Unknown token user.frist_name: user has id, first_name, dog-lover, score"
    )


@pytest.mark.django_db
def test_it_checks_custom_properties_against_the_app(news):
    assert check_error("{{ user['dog-lover'] }}", news) == (
        "Unknown token user['dog-lover']: user has id"
    )


@pytest.mark.django_db
def test_it_names_an_unknown_device_or_app_property(dogs):
    assert check_error("{{ device.push_token }}", dogs).startswith(
        "Unknown token device.push_token: device has install_id, platform, locale"
    )
    assert check_error("{{ app.organization }}", dogs) == (
        "Unknown token app.organization: app has name, display_name"
    )


@pytest.mark.django_db
def test_it_names_an_unknown_top_level_name(dogs):
    assert check_error("{{ order.total }}", dogs) == (
        "Unknown token order.total: use user, device, app or event"
    )


@pytest.mark.django_db
def test_it_refuses_a_bare_namespace(dogs):
    assert check_error("{{ user }}", dogs) == (
        "Bare token user: name a property, user has id, first_name, dog-lover, score"
    )


@pytest.mark.django_db
def test_it_refuses_a_chain_of_two_properties(dogs):
    assert check_error("{{ user.first_name.upper }}", dogs) == (
        "Token user.first_name.upper goes too deep: name one property, such as user.first_name"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("{{ user.id.__class__ }}", "user.id.__class__"),
        ("{{ user.__class__ }}", "user.__class__"),
        ("{{ ''.__class__.__mro__ }}", "''.__class__.__mro__"),
        ("{{ cycler.__init__.__globals__ }}", "cycler.__init__.__globals__"),
        ("{{ lipsum }}", "lipsum"),
        ("{{ range(10**9) }}", "range(...)"),
        ("{{ user.first_name.format(x=1) }}", "user.first_name.format(...)"),
        ("{{ user[device.platform] }}", "user[...]"),
    ],
)
def test_it_refuses_escapes_naming_the_token(dogs, text, token):
    assert token in check_error(text, dogs)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "statement"),
    [
        ("{% for x in user.id %}{{ x }}{% endfor %}", "{% for %} loops"),
        ("{% set x = user.id %}{{ x }}", "{% set %}"),
        ("{% include 'admin/base.html' %}", "{% include %}"),
        ("{% import 'macros.html' as m %}", "{% import %}"),
        ("{% extends 'base.html' %}", "{% extends %}"),
        ("{% macro m() %}x{% endmacro %}", "{% macro %}"),
        ("{{ user.score * 2 }}", "Arithmetic (*)"),
        ("{{ user.id is defined }}", "Tests with 'is'"),
    ],
)
def test_it_refuses_statements_and_operators(dogs, text, statement):
    assert check_error(text, dogs).startswith(f"{statement}: not allowed in push text")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["attr", "map", "format", "join", "safe"])
def test_it_refuses_filters_outside_the_whitelist(dogs, name):
    assert check_error(f"{{{{ user.first_name | {name}('x') }}}}", dogs).startswith(
        f"Filter {name} is not allowed: use default, d, upper"
    )


@pytest.mark.django_db
def test_it_says_which_line_on_several_lines(dogs):
    text = "Hello\n{{ user.first_name }}\n{{ user.frist_name }}"
    assert check_error(text, dogs).startswith("Unknown token user.frist_name at line 3: ")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Hi {{ user.first_name }", "Syntax error at line 1: unexpected '}'"),
        ("Hi\n{% if user.id %}x", "Syntax error at line 2: Unexpected end of template."),
    ],
)
def test_it_names_the_line_of_a_syntax_error(dogs, text, message):
    assert check_error(text, dogs).startswith(message)


@pytest.mark.django_db
def test_it_suggests_brackets_for_a_hyphenated_name(dogs):
    assert check_error("{{ user.dog-lover }}", dogs).endswith(
        "for a name with '-', write user['dog-lover']"
    )


@pytest.mark.django_db
def test_it_refuses_a_text_past_the_length_cap(dogs):
    check_text("x" * MAX_TEXT_LENGTH, dogs)
    assert check_error("x" * (MAX_TEXT_LENGTH + 1), dogs) == (
        f"The text is longer than {MAX_TEXT_LENGTH} characters."
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    ["{{ " + "(" * 200 + "1" + ")" * 200 + " }}", "{{ user.id" + " | upper" * 100 + " }}"],
)
def test_it_refuses_hostile_nesting(dogs, text):
    assert check_error(text, dogs) == "The text nests too deeply."


# --- Rendering ----------------------------------------------------------------------------------


@pytest.mark.parametrize("user", [{}, {"first_name": None}, {"first_name": ""}])
def test_default_applies_when_a_value_is_absent_none_or_empty(user):
    text = "Hi {{ user.first_name | default('there') }}, {{ user.first_name | d('you') | upper }}"
    assert render_text(text, with_user(**user)) == "Hi there, YOU"


@pytest.mark.parametrize("user", [{}, {"first_name": None}, {"first_name": ""}])
def test_a_missing_value_without_default_renders_as_nothing(user):
    text = "Hi {{ user.first_name }}{{ user.first_name | title }}{{ user.first_name | int }}!"
    assert render_text(text, with_user(**user)) == "Hi !"


def test_it_never_renders_none():
    text = "{{ none }}{{ user.nope | default(none) }}{{ user.other }}{{ app.name | d(none) }}"
    assert render_text(text, with_user(nope=None)) == "retail"


def test_a_missing_namespace_renders_as_nothing():
    assert render_text("[{{ app.name }}]", {"user": {"id": "u-1"}}) == "[]"


def test_hyphenated_custom_properties_render():
    assert render_text("{{ user['dog-lover'] }}", CONTEXT) == "true"


def test_numbers_and_booleans_render_as_apps_send_them():
    user = {"score": 3.0, "half": 2.5, "count": 7, "yes": True, "no": False}
    text = "{{ user.score }} {{ user.half }} {{ user.count }} {{ user.yes }} {{ user.no }}"
    assert render_text(text, with_user(**user)) == "3 2.5 7 true false"


def test_a_false_or_zero_value_is_not_missing():
    text = "{{ user.no | default('x') }} {{ user.zero | default('x') }}"
    assert render_text(text, with_user(no=False, zero=0)) == "false 0"


def test_conditions_read_properties_and_a_missing_value_compares_false():
    text = "{% if user.score > 2 %}high{% elif user.score <= 2 %}low{% else %}none{% endif %}"
    assert render_text(text, with_user(score=5)) == "high"
    assert render_text(text, with_user(score=1)) == "low"
    assert render_text(text, with_user()) == "none"


def test_it_renders_device_and_app_values():
    text = "{{ app.display_name }} on {{ device.platform }} ({{ device.carrier_country }})"
    assert render_text(text, CONTEXT) == "Retail on android (PT)"


def test_autoescaping_is_off():
    assert render_text("{{ user.first_name }} & <b>", with_user(first_name="A&B <i>")) == (
        "A&B <i> & <b>"
    )


def test_a_property_named_like_a_dict_method_reads_the_property():
    assert render_text("{{ user.items }}|{{ user.keys }}", with_user(items="shoes")) == "shoes|"


def test_render_reaches_no_python_attribute_on_an_unchecked_text():
    text = "{{ user.__class__ }}{{ user['__class__'] }}{{ user.__len__ }}"
    assert render_text(text, CONTEXT) == ""


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("{{ user.id.__class__ }}", "user.id.__class__"),
        ("{{ ''.__class__.__mro__ }}", "''.__class__.__mro__"),
        ("{{ cycler.__init__.__globals__ }}", "cycler.__init__.__globals__"),
        ("{{ lipsum }}", "lipsum"),
        ("{{ range(10**9) }}", "range(...)"),
        ("{{ user.id | attr('__class__') }}", "Filter attr"),
        ("{% for x in user.id %}{% endfor %}", "{% for %}"),
    ],
)
def test_render_refuses_escapes_on_an_unchecked_text(text, token):
    assert token in render_error(text)


def test_render_refuses_output_past_the_cap():
    assert render_text("{{ user.bio }}", with_user(bio="x" * MAX_OUTPUT_LENGTH)) == (
        "x" * MAX_OUTPUT_LENGTH
    )
    assert render_error("{{ user.bio }}!", with_user(bio="x" * MAX_OUTPUT_LENGTH)) == (
        f"The text renders to more than {MAX_OUTPUT_LENGTH} characters on this device."
    )


def test_render_refuses_a_replace_that_would_blow_up():
    text = "{{ user.bio | replace('', '" + "y" * 100 + "') }}"
    assert render_error(text, with_user(bio="x" * 100)) == (
        f"The replace filter makes more than {MAX_OUTPUT_LENGTH} characters on this device."
    )


def test_a_render_error_is_a_personalization_error():
    assert render_error("{% if user.first_name > 3 %}x{% endif %}").startswith(
        "The text cannot be rendered: '>' not supported"
    )


def test_render_names_the_line_of_a_syntax_error():
    assert render_error("Hi\n{{ user.id }") == "Syntax error at line 2: unexpected '}'"


def test_has_tokens_tells_plain_texts_apart():
    assert not has_tokens("Sale: 20% off {today}!")
    assert has_tokens("Hi {{ user.first_name }}")
    assert has_tokens("{% if user.id %}x{% endif %}")
    assert has_tokens("Sale {# draft #}")


# --- Contexts -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_device_context_reads_the_device_row(dogs):
    row = device(
        dogs,
        platform="android",
        user_id="u-7",
        locale="pt-PT",
        device_os_version="14",
        os_api_level=34,
        device_model="Pixel 8",
        custom_properties={"first_name": "Rui", "dog-lover": False, "undeclared": "x"},
    )
    context = device_context(row, dogs)
    assert context["user"] == {"id": "u-7", "first_name": "Rui", "dog-lover": False}
    assert context["device"] == {
        "install_id": str(row.install_id),
        "platform": "android",
        "locale": "pt-PT",
        "os_version": "14",
        "os_api_level": 34,
        "model": "Pixel 8",
    }
    assert context["app"] == {"name": "retail", "display_name": "Retail"}


@pytest.mark.django_db
def test_device_context_leaves_missing_values_to_defaults(dogs):
    row = device(dogs, custom_properties={"first_name": ""})
    text = "Hi {{ user.first_name | default('there') }}{{ user.id }}{{ device.os_api_level }}"
    assert render_text(text, device_context(row, dogs)) == "Hi there"


@pytest.mark.django_db
def test_sample_context_is_the_latest_active_device(dogs):
    device(dogs, user_id="old", last_seen=NOW - timedelta(days=2))
    device(dogs, user_id="latest", last_seen=NOW - timedelta(days=1))
    device(dogs, user_id="retired", last_seen=NOW, status=DeviceStatus.UNREGISTERED)
    assert sample_context(dogs)["user"] == {"id": "latest"}


@pytest.mark.django_db
def test_sample_context_makes_up_a_device_on_the_apps_platform(dogs, news):
    assert sample_context(dogs)["device"]["platform"] == "ios"
    sample = sample_context(news)
    assert sample["device"]["platform"] == "windows"
    assert sample["device"]["locale"] == "en-US"
    assert sample["user"] == {}
    assert render_text("Hi {{ user.first_name | d('there') }}", sample) == "Hi there"
