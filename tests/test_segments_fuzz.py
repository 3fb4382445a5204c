"""Whatever text arrives as a definition, the language answers DefinitionError or a safe query."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.models import Device, MobileApp
from events.models import Event
from segments.language import (
    MAX_DEPTH,
    MAX_EVENT_PREDICATES,
    MAX_LENGTH,
    MAX_LIST_ITEMS,
    DefinitionError,
    check_definition,
    compile_definition,
)

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
CUSTOM = {"dog-lover": "boolean", "dog-breed": "string", "score": "number", "signup.at": "datetime"}
TOKENS = [
    # property names, known and not
    "carrierCountry", "appVersion", "osApiLevel", "lastSeen", "pushEnabled", "categories",
    "userId", "dog-lover", "dog-breed", "score", "signup.at", "nope", "a.b-c_d",
    # keywords and operators, in any case
    "and", "OR", "Not", "exists", "in", "not in", "eq", "NE", "lt", "gt", "le", "ge",
    "startswith", "endswith", "contains", "=", "!=", "<", ">", "<=", ">=", "==", "<>", "!",
    # literals, good and bad
    "'US'", "''", "'O''Neil'", "'2.10'", "'2026-01-31'", "'", "'unclosed", "5", "-2.5", "1e5",
    "12345678901234567", "true", "FALSE", "null", "now", "now-30d", "now+2h", "now-5y",
    "now-999999999w", "2026-01-31", "2026-01-31T09:00:00Z", "2026-02-30", "2026-01-31T25:00:00",
    "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00",
    # behaviour predicates and their clauses
    "did", "DID(", "did('purchase',", "within", "30d", "12H", "90m", "0d", "366d", "1y", "count",
    "count >= 2", "where", "amount ge 20", "currency eq 'EUR'", "exists(amount)",
    # punctuation and things SQL cares about
    "(", ")", ",", ";", "--", "/*", "*/", "\\", '"', "%", "_", "\x00", "\n", "😀", "é",
]  # fmt: skip
SOUP = st.lists(st.sampled_from(TOKENS), max_size=30).flatmap(
    lambda tokens: st.lists(
        st.sampled_from([" ", "", "\n"]), min_size=len(tokens), max_size=len(tokens)
    ).map(lambda gaps: "".join(token + gap for token, gap in zip(tokens, gaps, strict=True)))
)
CLAUSES = [
    "carrierCountry eq 'US'", "appVersion ge '2.10'", "osApiLevel < 5", "lastSeen > now-30d",
    "pushEnabled ne true", "userId startswith 'a'", "categories contains 'offers'",
    "dog-lover = true", "dog-breed in ('a', 'b')", "score >= -2.5", "exists(userId)",
    "signup.at lt '2026-01-31'", "carrierCountry not in ('US')", "appVersion eq null",
    "did('purchase', within 30d)", "not did('app_open', within 7d)",
    "did('purchase', count ge 2, within 365d)", "did('purchase', within 12h, count lt 3)",
    "did('purchase', within 30d, where amount ge 20 and currency eq 'EUR')",
    "did('x''; DROP TABLE events_event; --', within 1d, where (first eq true or exists(a)))",
]  # fmt: skip


@st.composite
def near_misses(draw: st.DrawFn) -> str:
    """Valid comparisons joined by and/or, then perhaps broken by a token or two dropped in."""
    words: list[str] = []
    for index in range(draw(st.integers(1, 6))):
        if index:
            words.append(draw(st.sampled_from(["and", "or", "AND NOT", "or not", "and ("])))
        words.append(draw(st.sampled_from(CLAUSES)))
    words += [")"] * sum(word.endswith("(") for word in words)
    for _ in range(draw(st.integers(0, 2))):
        words.insert(draw(st.integers(0, len(words))), draw(st.sampled_from(TOKENS)))
    return " ".join(words)


SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def compiles_or_explains(definition: str) -> bool:
    """Return whether the definition compiles on both databases; only DefinitionError may escape."""
    try:
        check_definition(definition, CUSTOM)
    except DefinitionError as error:
        assert 0 <= error.offset <= len(definition)
        assert error.line >= 1 and error.column >= 1 and error.expected and error.found
        assert str(error).startswith(f"line {error.line}, column {error.column}: ")
        return False
    for vendor in ("sqlite", "postgresql"):
        compile_definition(definition, CUSTOM, now=NOW, vendor=vendor)
    return True


@settings(SETTINGS, max_examples=500)
@given(st.text(max_size=200))
def test_any_text_raises_nothing_but_a_definition_error(definition):
    compiles_or_explains(definition)


@settings(SETTINGS, max_examples=300)
@given(st.one_of(SOUP, near_misses()))
def test_token_soup_either_explains_itself_or_runs(retail, definition):
    if compiles_or_explains(definition):
        condition = compile_definition(definition, CUSTOM, now=NOW)
        Device.objects.filter(app=retail).filter(condition).count()


# Injection attempts


@pytest.fixture
def targets(retail) -> MobileApp:
    """Devices whose values look like the attacks, so a literal is shown to stay a literal."""
    for label, user_id, breed in [
        ("us", "u1", "Poodle"),
        ("quote", "x' OR '1'='1", "Golden Retriever"),
        ("backslash", "a\\", '{"dog-breed": "Poodle"}'),
        ("percent", "50%", "%"),
        ("drop", "US'; DROP TABLE devices_device; --", "Poodle'); DELETE FROM devices_device; --"),
    ]:
        Device.objects.create(
            app=retail,
            install_id=uuid.uuid4(),
            platform="ios",
            push_token=label,
            user_id=user_id,
            carrier_country="US" if label == "us" else "",
            custom_properties={"dog-breed": breed},
            first_seen=NOW,
            last_seen=NOW,
        )
    device = Device.objects.get(app=retail, push_token="us")
    Event.objects.create(
        app=retail, device=device, name="purchase", properties={"currency": "EUR"}, occurred_at=NOW
    )
    return retail


REFUSED = [
    "carrierCountry eq 'US'; DROP TABLE devices_device; --'",
    "carrierCountry eq 'US' -- and userId eq 'x'",
    "carrierCountry eq 'US' /* comment */",
    "carrierCountry in ('US'); DELETE FROM devices_device WHERE ('1'='1')",
    "userId eq 'x\x00' or userId ne 'x'",
    'userId eq "u1"',
    "userId eq 'u1' OR 1=1",
    "devices_device.user_id eq 'u1'",
    "dog\"breed eq 'x'",
    "exists(userId) or (SELECT 1)",
    "userId eq u1",
    "userId eq 'u1'\x00; DROP TABLE devices_device",
]
ACCEPTED = [
    ("carrierCountry eq 'US''; DROP TABLE devices_device; --'", set()),
    ("userId eq 'US''; DROP TABLE devices_device; --'", {"drop"}),
    ("userId eq 'x'' OR ''1''=''1'", {"quote"}),
    ("userId eq 'a\\' or userId eq 'u1'", {"backslash", "us"}),
    ("userId contains '%'", {"percent"}),
    ("userId eq '\\'' OR 1=1 --'", set()),
    ("userId startswith '_'", set()),
    ("userId endswith '--'", {"drop"}),
    ('dog-breed eq \'{"dog-breed": "Poodle"}\'', {"backslash"}),
    ("dog-breed eq 'Poodle''); DELETE FROM devices_device; --'", {"drop"}),
    ("dog-breed ne 'Poodle' and dog-breed startswith '%'", {"percent"}),
    ("dog-breed in ('Golden Retriever', '\\', '''')", {"quote"}),
    ("categories contains 'offers'' OR 1=1 --'", set()),
    ("did('x'' OR 1=1 --', within 1d)", set()),
    ("did('purchase', within 1d, where currency eq 'EUR'') OR 1=1 --')", set()),
    ("did('purchase', within 1d, where currency eq 'EUR')", {"us"}),
]


def assert_devices_table_intact(expected_count: int) -> None:
    assert Device._meta.db_table in connection.introspection.table_names()
    assert Event._meta.db_table in connection.introspection.table_names()
    assert Device.objects.count() == expected_count


@pytest.mark.parametrize("definition", REFUSED)
def test_an_injection_that_breaks_the_grammar_is_refused(targets, definition):
    with pytest.raises(DefinitionError):
        check_definition(definition, CUSTOM)
    with pytest.raises(DefinitionError):
        compile_definition(definition, CUSTOM, now=NOW)
    assert_devices_table_intact(5)


@pytest.mark.parametrize(("definition", "labels"), ACCEPTED)
def test_an_injection_inside_a_string_stays_a_value(targets, definition, labels):
    devices = Device.objects.filter(app=targets).filter(
        compile_definition(definition, CUSTOM, now=NOW)
    )

    sql, params = devices.query.sql_with_params()
    assert set(devices.values_list("push_token", flat=True)) == labels
    assert "DROP" not in sql and "DELETE" not in sql and "OR 1=1" not in sql
    assert_devices_table_intact(5)


# The limits run, not only parse


def test_the_most_comparisons_that_fit_run_on_the_database(targets):
    definition = " or ".join(["n=1"] * 571)  # the shortest comparison, as often as fits
    assert MAX_LENGTH - len(" or n=1") <= len(definition) <= MAX_LENGTH
    condition = compile_definition(definition, {"n": "number"})
    assert Device.objects.filter(app=targets).filter(condition).count() == 0


def test_a_definition_nested_50_deep_runs_on_the_database_even_in_a_subquery(targets):
    definition = "not userId eq 'u1' or userId endswith '%'"
    for level in range(1, MAX_DEPTH):
        if level % 2:
            definition = f"exists(userId) and ({definition})"
        else:
            definition = f"userId eq 'x' or carrierCountry eq 'FR' or ({definition})"
    check_definition(definition, CUSTOM)
    inner = Device.objects.filter(app=targets).filter(compile_definition(definition, CUSTOM))
    devices = Device.objects.filter(pk__in=inner.values("pk")).exclude(platform="windows")
    assert set(devices.values_list("push_token", flat=True)) == {
        "quote",
        "backslash",
        "percent",
        "drop",
    }


def test_a_definition_at_the_depth_and_list_limits_runs_on_the_database(targets):
    values = ",".join(["''"] * (MAX_LIST_ITEMS - 1) + ["'u1'"])
    nested = "not (" * (MAX_DEPTH // 2) + f"userId in ({values})" + ")" * (MAX_DEPTH // 2)
    devices = Device.objects.filter(app=targets).filter(compile_definition(nested, CUSTOM))
    assert set(devices.values_list("push_token", flat=True)) == {
        "quote",
        "backslash",
        "percent",
        "drop",
    }


def test_the_most_behaviour_predicates_allowed_run_on_the_database(targets):
    window = "within 365d, count ge 1, where currency eq 'EUR' or not exists(currency)"
    definition = " or ".join([f"did('purchase', {window})"] * MAX_EVENT_PREDICATES)
    condition = compile_definition(definition, CUSTOM, now=NOW)
    devices = Device.objects.filter(app=targets).filter(condition)
    assert set(devices.values_list("push_token", flat=True)) == {"us"}
    with pytest.raises(DefinitionError, match=f"at most {MAX_EVENT_PREDICATES} did"):
        check_definition(f"{definition} or did('purchase', within 1d)", CUSTOM)
