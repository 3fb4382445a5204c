"""The audience language: what each definition selects, and what each mistake is told."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import NotSupportedError

from devices.models import Device, MobileApp
from devices.registration import register_device
from devices.versions import version_key
from segments.language import (
    BUILT_IN_PROPERTIES,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_LIST_ITEMS,
    DefinitionError,
    PropertyInfo,
    available_properties,
    check_definition,
    compile_definition,
)

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
DOGS = {"dog-lover": "boolean", "dog-breed": "string"}
CUSTOM = {
    **DOGS,
    "score": "number",
    "signup.at": "datetime",
    "tier_2": "string",
}


def device(app: MobileApp, label: str, **columns: object) -> Device:
    """Create a device; its label rides in push_token, which no definition can read."""
    columns.setdefault("platform", "ios")
    columns.setdefault("first_seen", NOW - timedelta(days=100))
    columns.setdefault("last_seen", NOW)
    for version, key in (
        ("app_version", "app_version_key"),
        ("device_os_version", "device_os_version_key"),
    ):
        if version in columns:
            columns[key] = version_key(columns[version])
    return Device.objects.create(app=app, install_id=uuid.uuid4(), push_token=label, **columns)


def selected(app: MobileApp, definition: str, types: dict[str, str] | None = None) -> set[str]:
    condition = compile_definition(definition, CUSTOM if types is None else types, now=NOW)
    return set(
        Device.objects.filter(app=app).filter(condition).values_list("push_token", flat=True)
    )


def error_of(definition: str, types: dict[str, str] | None = None) -> DefinitionError:
    with pytest.raises(DefinitionError) as raised:
        check_definition(definition, CUSTOM if types is None else types)
    return raised.value


# The seed's two examples, through the registration path


def registration(token: str, country: str, custom: dict[str, object]) -> dict:
    return {
        "platform": "ios",
        "push_token": token,
        "properties": {"carrierCountry": country},
        "custom_properties": custom,
    }


def test_the_seeds_country_example_selects_devices_in_the_united_states(retail):
    us, fr = "a" * 64, "b" * 64
    register_device(retail, uuid.uuid4(), registration(us, "US", {}))
    register_device(retail, uuid.uuid4(), registration(fr, "FR", {}))
    assert selected(retail, "carrierCountry eq 'US'", {}) == {us}


def test_the_seeds_dog_example_selects_golden_retriever_lovers(retail):
    golden, other_breed, not_a_lover, silent = "a" * 64, "b" * 64, "c" * 64, "d" * 64
    register_device(
        retail,
        uuid.uuid4(),
        registration(golden, "US", {"dog-lover": True, "dog-breed": "Golden Retriever"}),
    )
    register_device(
        retail,
        uuid.uuid4(),
        registration(other_breed, "US", {"dog-lover": True, "dog-breed": "Poodle"}),
    )
    register_device(
        retail,
        uuid.uuid4(),
        registration(not_a_lover, "US", {"dog-lover": False, "dog-breed": "Golden Retriever"}),
    )
    register_device(retail, uuid.uuid4(), registration(silent, "US", {}))
    definition = "dog-lover eq true and dog-breed eq 'Golden Retriever'"
    assert selected(retail, definition, DOGS) == {golden}


# Comparisons and literals


@pytest.fixture
def countries(retail) -> MobileApp:
    device(retail, "us", carrier_country="US")
    device(retail, "ca", carrier_country="CA")
    device(retail, "fr", carrier_country="FR")
    device(retail, "unknown", carrier_country="")
    return retail


@pytest.mark.parametrize(
    ("definition", "labels"),
    [
        ("carrierCountry eq 'US'", {"us"}),
        ("carrierCountry = 'US'", {"us"}),
        ("carrierCountry ne 'US'", {"ca", "fr"}),
        ("carrierCountry != 'US'", {"ca", "fr"}),
        ("carrierCountry lt 'FR'", {"ca"}),
        ("carrierCountry < 'FR'", {"ca"}),
        ("carrierCountry le 'FR'", {"ca", "fr"}),
        ("carrierCountry <= 'FR'", {"ca", "fr"}),
        ("carrierCountry gt 'FR'", {"us"}),
        ("carrierCountry > 'FR'", {"us"}),
        ("carrierCountry ge 'FR'", {"fr", "us"}),
        ("carrierCountry >= 'FR'", {"fr", "us"}),
        ("carrierCountry in ('US', 'CA')", {"us", "ca"}),
        ("carrierCountry not in ('US', 'CA')", {"fr"}),
        ("carrierCountry startswith 'F'", {"fr"}),
        ("carrierCountry endswith 'A'", {"ca"}),
        ("carrierCountry contains 'R'", {"fr"}),
        ("exists(carrierCountry)", {"us", "ca", "fr"}),
        ("carrierCountry eq null", {"unknown"}),
        ("carrierCountry ne null", {"us", "ca", "fr"}),
        ("carrierCountry eq ''", set()),
    ],
)
def test_each_operator_compares_a_string(countries, definition, labels):
    assert selected(countries, definition) == labels


def test_a_device_without_the_property_matches_no_comparison_but_matches_its_negation(countries):
    assert "unknown" not in selected(countries, "carrierCountry ne 'US'")
    assert "unknown" not in selected(countries, "carrierCountry not in ('US')")
    assert "unknown" in selected(countries, "not (carrierCountry eq 'US')")
    assert "unknown" in selected(countries, "not carrierCountry ne 'US'")
    assert "unknown" in selected(countries, "not (carrierCountry in ('US'))")


def test_keywords_ignore_case_and_names_do_not(countries):
    assert selected(countries, "carrierCountry EQ 'US' Or carrierCountry Eq 'CA'") == {"us", "ca"}
    assert selected(countries, "NOT EXISTS(carrierCountry)") == {"unknown"}
    assert selected(countries, "carrierCountry NOT IN ('US')") == {"ca", "fr"}
    assert "did you mean carrierCountry?" in str(error_of("carriercountry eq 'US'"))


def test_not_binds_tighter_than_and_which_binds_tighter_than_or(retail):
    device(retail, "us-ios", carrier_country="US", platform="ios")
    device(retail, "us-android", carrier_country="US", platform="android")
    device(retail, "fr-ios", carrier_country="FR", platform="ios")
    device(retail, "fr-android", carrier_country="FR", platform="android")
    either = "carrierCountry eq 'FR' or carrierCountry eq 'US' and platform eq 'ios'"
    assert selected(retail, either) == {"us-ios", "fr-ios", "fr-android"}
    grouped = "(carrierCountry eq 'FR' or carrierCountry eq 'US') and platform eq 'ios'"
    assert selected(retail, grouped) == {"us-ios", "fr-ios"}
    negated = "not carrierCountry eq 'US' and platform eq 'ios'"
    assert selected(retail, negated) == {"fr-ios"}
    assert selected(retail, "not (carrierCountry eq 'US' and platform eq 'ios')") == {
        "us-android",
        "fr-ios",
        "fr-android",
    }


def test_string_comparisons_are_case_sensitive_and_take_like_wildcards_literally(retail):
    device(retail, "percent", user_id="50%_off")
    device(retail, "plain", user_id="50 off")
    device(retail, "upper", user_id="OFF")
    assert selected(retail, "userId contains '%'") == {"percent"}
    assert selected(retail, "userId startswith '50%'") == {"percent"}
    assert selected(retail, "userId endswith '_off'") == {"percent"}
    assert selected(retail, "userId contains 'off'") == {"percent", "plain"}
    assert selected(retail, "userId eq 'off'") == set()
    assert selected(retail, "userId startswith ''") == {"percent", "plain", "upper"}


def test_a_quote_is_written_twice_inside_a_string(retail):
    device(retail, "oneil", user_id="O'Neil")
    device(retail, "quotes", user_id="''")
    assert selected(retail, "userId eq 'O''Neil'") == {"oneil"}
    assert selected(retail, "userId eq ''''''") == {"quotes"}


def test_a_null_user_id_is_missing(retail):
    device(retail, "user", user_id="u1")
    device(retail, "anonymous", user_id=None)
    assert selected(retail, "userId ne 'u2'") == {"user"}
    assert selected(retail, "userId eq null") == {"anonymous"}
    assert selected(retail, "not (userId eq 'u1')") == {"anonymous"}


def test_versions_compare_by_their_numbers(retail):
    device(retail, "2.9", app_version="2.9")
    device(retail, "2.10", app_version="2.10")
    device(retail, "2.1.0", app_version="2.1.0")
    device(retail, "none", app_version="")
    assert selected(retail, "appVersion gt '2.9'") == {"2.10"}
    assert selected(retail, "appVersion eq '2.1'") == {"2.1.0"}
    assert selected(retail, "appVersion lt '2.10'") == {"2.9", "2.1.0"}
    assert selected(retail, "appVersion in ('2.1', '2.10.0')") == {"2.1.0", "2.10"}
    assert selected(retail, "appVersion ne '2.9'") == {"2.10", "2.1.0"}
    assert selected(retail, "appVersion eq null") == {"none"}


def test_os_versions_compare_by_their_numbers(retail):
    device(retail, "17.2", device_os_version="17.2")
    device(retail, "9.3.5", device_os_version="9.3.5")
    assert selected(retail, "deviceOsVersion ge '10'") == {"17.2"}


def test_numbers_compare_as_numbers(retail):
    device(retail, "33", os_api_level=33, custom_properties={"score": 2.5})
    device(retail, "34", os_api_level=34, custom_properties={"score": 3})
    device(retail, "none", os_api_level=None, custom_properties={"score": "3"})
    assert selected(retail, "osApiLevel ge 34") == {"34"}
    assert selected(retail, "osApiLevel lt 33.5") == {"33"}
    assert selected(retail, "osApiLevel gt -1") == {"33", "34"}
    assert selected(retail, "osApiLevel ne 33") == {"34"}
    assert selected(retail, "score eq 3.0") == {"34"}
    assert selected(retail, "score le 2.5") == {"33"}
    assert selected(retail, "score gt -0.5") == {"33", "34"}
    assert selected(retail, "not score gt 2") == {"none"}


def test_booleans_compare_with_true_and_false(retail):
    device(retail, "lover", push_enabled=True, custom_properties={"dog-lover": True})
    device(retail, "not", push_enabled=False, custom_properties={"dog-lover": False})
    device(retail, "silent", push_enabled=True, custom_properties={"dog-lover": "yes"})
    assert selected(retail, "pushEnabled eq false") == {"not"}
    assert selected(retail, "pushEnabled = TRUE") == {"lover", "silent"}
    assert selected(retail, "dog-lover ne true") == {"not"}
    assert selected(retail, "dog-lover eq null") == {"silent"}


def test_datetimes_compare_with_dates_date_times_and_relative_times(retail):
    device(retail, "recent", last_seen=NOW - timedelta(days=2))
    device(retail, "old", last_seen=NOW - timedelta(days=40))
    device(retail, "at-nine", last_seen=datetime(2026, 1, 31, 9, tzinfo=UTC))
    assert selected(retail, "lastSeen gt now-14d") == {"recent"}
    assert selected(retail, "lastSeen gt now-30d") == {"recent", "at-nine"}
    assert selected(retail, "lastSeen le now-3w") == {"old", "at-nine"}
    assert selected(retail, "lastSeen lt now-47h") == {"old", "at-nine", "recent"}
    assert selected(retail, "lastSeen eq 2026-01-31T09:00:00Z") == {"at-nine"}
    assert selected(retail, "lastSeen eq 2026-01-31T10:00:00+01:00") == {"at-nine"}
    assert selected(retail, "lastSeen eq '2026-01-31T09:00:00Z'") == {"at-nine"}
    assert selected(retail, "lastSeen ge 2026-01-31 and lastSeen lt 2026-02-01") == {"at-nine"}
    assert selected(retail, "lastSeen gt now+1s") == set()
    assert selected(retail, "firstSeen eq null") == set()


def test_custom_datetimes_compare_as_the_moments_they_name(retail):
    device(retail, "nine", custom_properties={"signup.at": "2026-01-31T09:00:00Z"})
    device(retail, "ten", custom_properties={"signup.at": "2026-01-31T10:00:00Z"})
    device(retail, "unset", custom_properties={})
    assert selected(retail, "signup.at eq 2026-01-31T11:00:00+02:00") == {"nine"}
    assert selected(retail, "signup.at lt 2026-01-31T09:00:00.5Z") == {"nine"}
    assert selected(retail, "signup.at gt 2026-01-31T09:00:00.5Z") == {"ten"}
    assert selected(retail, "signup.at eq 2026-01-31T09:00:00.5Z") == set()
    assert selected(retail, "signup.at ge 2026-01-31") == {"nine", "ten"}
    assert selected(retail, "signup.at lt now") == {"nine", "ten"}


def test_categories_are_queried_by_membership_and_presence(retail):
    device(retail, "offers", categories=["news", "offers"])
    device(retail, "news", categories=["news"])
    device(retail, "none", categories=[])
    assert selected(retail, "categories contains 'offers'") == {"offers"}
    assert selected(retail, "categories contains 'Offers'") == set()
    assert selected(retail, "exists(categories)") == {"offers", "news"}
    assert selected(retail, "not exists(categories)") == {"none"}


def test_custom_names_may_hold_dashes_dots_and_underscores(retail):
    device(
        retail, "gold", custom_properties={"tier_2": "gold", "signup.at": "2026-01-01T00:00:00Z"}
    )
    assert selected(retail, "tier_2 eq 'gold' and exists(signup.at)") == {"gold"}


def test_an_empty_custom_string_is_present(retail):
    device(retail, "empty", custom_properties={"dog-breed": ""})
    device(retail, "absent", custom_properties={})
    assert selected(retail, "dog-breed eq ''") == {"empty"}
    assert selected(retail, "exists(dog-breed)") == {"empty"}


def test_the_condition_also_works_inside_a_subquery(retail):
    device(
        retail, "us", carrier_country="US", categories=["offers"], custom_properties={"score": 5}
    )
    device(retail, "fr", carrier_country="FR", categories=[], custom_properties={"score": 1})
    condition = compile_definition(
        "carrierCountry eq 'US' and categories contains 'offers' and score gt 2", CUSTOM, now=NOW
    )
    inner = Device.objects.filter(app=retail).filter(condition).values("pk")
    assert set(Device.objects.filter(pk__in=inner).values_list("push_token", flat=True)) == {"us"}


def test_now_defaults_to_the_current_time(retail):
    device(retail, "seen", last_seen=datetime.now(UTC) - timedelta(minutes=5))
    condition = compile_definition("lastSeen gt now-1h", {})
    assert Device.objects.filter(app=retail).filter(condition).count() == 1


def test_on_postgresql_custom_equality_is_a_jsonb_containment():
    condition = compile_definition("dog-lover eq true", DOGS, now=NOW, vendor="postgresql")
    assert ("custom_properties__contains", {"dog-lover": True}) in condition.children


def test_on_postgresql_custom_equalities_joined_by_and_are_one_containment():
    # One containment is estimated as such; apart, PostgreSQL multiplies their estimates.
    condition = compile_definition(
        "dog-lover eq true and carrierCountry eq 'US' and dog-breed eq 'Beagle'",
        DOGS,
        now=NOW,
        vendor="postgresql",
    )
    merged = ("custom_properties__contains", {"dog-lover": True, "dog-breed": "Beagle"})
    assert merged in condition.children[-1].children


def test_the_same_custom_key_twice_keeps_both_equalities(retail):
    device(retail, "beagle", custom_properties={"dog-breed": "Beagle"})
    assert selected(retail, "dog-breed eq 'Beagle' and dog-breed eq 'Poodle'") == set()
    assert selected(retail, "dog-breed eq 'Beagle' and dog-breed eq 'Beagle'") == {"beagle"}
    assert selected(retail, "not (dog-breed eq 'Beagle' or dog-lover eq true)") == set()


def test_on_postgresql_a_custom_number_is_ordered_by_a_strict_json_path():
    condition = compile_definition("score ge 50.50", CUSTOM, now=NOW, vendor="postgresql")
    path = condition.children[0].get_source_expressions()[1].value
    assert path == 'strict $."score" ? (@ >= 50.50)'


def test_only_a_json_number_is_ordered_not_one_in_a_list_or_a_string(retail):
    for label, score in [("sixty", 60), ("list", [60]), ("text", "60"), ("object", {"n": 60})]:
        device(retail, label, custom_properties={"score": score})
    device(retail, "none", custom_properties={})
    assert selected(retail, "score ge 50") == {"sixty"}
    assert selected(retail, "not score ge 50") == {"list", "text", "object", "none"}
    assert selected(retail, "score lt -0.5 or score le 60.0") == {"sixty"}


def test_it_refuses_a_database_it_cannot_query():
    with pytest.raises(NotSupportedError):
        compile_definition("carrierCountry eq 'US'", {}, vendor="mysql")


# Errors: where, what was found, what was expected


def test_a_misspelt_operator_names_its_place_and_the_operators():
    error = error_of("carrierCountry equals 'US'")
    assert (error.offset, error.line, error.column) == (15, 1, 16)
    assert error.found == "'equals'"
    assert error.expected.startswith("a comparison operator (eq, ne,")
    assert str(error).startswith("line 1, column 16: expected a comparison operator (eq, ne,")
    assert str(error).endswith("found 'equals'")


def test_an_unknown_property_suggests_the_nearest_name():
    error = error_of("carierCountry eq 'US'")
    assert (
        str(error)
        == "line 1, column 1: unknown property 'carierCountry'; did you mean carrierCountry?"
    )
    assert error.found == "'carierCountry'"
    custom = error_of("exists(dog-lovr)")
    assert (custom.column, "did you mean dog-lover?" in str(custom)) == (8, True)
    assert "did you mean" not in str(error_of("zzzz eq 1"))


def test_a_wrong_type_names_the_property_its_type_and_what_was_found():
    error = error_of("carrierCountry eq 5")
    assert str(error) == (
        "line 1, column 19: carrierCountry is a string property: "
        "expected a 'quoted string', found the number 5"
    )
    assert (error.found, error.expected) == ("the number 5", "a 'quoted string'")
    assert "appVersion is a version property" in str(error_of("appVersion ge 2"))
    assert "found the string '2.1b'" in str(error_of("appVersion ge '2.1b'"))
    assert "found the string 'yes'" in str(error_of("lastSeen gt 'yes'"))
    assert "found true" in str(error_of("score lt true"))
    assert "found the date 2026-01-31" in str(error_of("dog-breed eq 2026-01-31"))


@pytest.mark.parametrize(
    ("definition", "column", "found"),
    [
        ("pushEnabled gt true", 13, "'gt'"),
        ("osApiLevel in (33, 34)", 12, "'in'"),
        ("dog-lover startswith 't'", 11, "'startswith'"),
        ("categories eq 'offers'", 12, "'eq'"),
        ("lastSeen not in (now)", 10, "'not in'"),
    ],
)
def test_an_operator_the_type_does_not_take_is_refused(definition, column, found):
    error = error_of(definition)
    assert (error.column, error.found) == (column, found)
    assert " is a" in error.message and f"found {found}" in error.message


@pytest.mark.parametrize(
    ("definition", "line", "column", "expected", "found"),
    [
        (
            "carrierCountry eq 'US",
            1,
            19,
            "' to close the string that starts here",
            "end of definition",
        ),
        ("(carrierCountry eq 'US'", 1, 24, "and, or or )", "end of definition"),
        ("carrierCountry eq 'US')", 1, 23, "and, or or end of definition", "')'"),
        ("carrierCountry eq 'US' 'CA'", 1, 24, "and, or or end of definition", "the string 'CA'"),
        (
            "carrierCountry eq 'US' and",
            1,
            27,
            "a property name, not, exists or (",
            "end of definition",
        ),
        ("carrierCountry eq US", 1, 19, None, "'US'"),
        ("carrierCountry eq", 1, 18, None, "end of definition"),
        ("carrierCountry in 'US'", 1, 19, "( to start the list of values", "the string 'US'"),
        ("carrierCountry in ('US' 'CA')", 1, 25, ", or ) to close the list", "the string 'CA'"),
        ("carrierCountry not 'US'", 1, 20, "in after not", "the string 'US'"),
        ("exists carrierCountry", 1, 8, "( after exists", "'carrierCountry'"),
        (
            "carrierCountry eq 'US' && platform eq 'ios'",
            1,
            24,
            "and, or or end of definition",
            "'&'",
        ),
        ("carrierCountry eq 'US'\nand appVersion ge 2", 2, 19, None, "the number 2"),
        ("carrierCountry eq 'US'\n\n  or oops", 3, 10, None, "end of definition"),
        ("lastSeen gt 2026-02-30", 1, 13, None, "'2026-02-30'"),
        ("lastSeen gt now-30y", 1, 13, None, "'now-30y'"),
        ("lastSeen gt now-99999999999w", 1, 13, None, "'now-99999999999w'"),
        (
            "lastSeen gt now-999999999w",
            1,
            13,
            "a relative time within 100 years of now, such as now-30d or now+8760h",
            "'now-999999999w'",
        ),
        ("score eq 1234567890123456", 1, 10, "a number of at most 15 digits", None),
        ("userId eq 'a\x00'", 1, 13, None, "the NUL character"),
        ("", 1, 1, "a property name, not, exists or (", "end of definition"),
    ],
)
def test_a_syntax_error_says_where_what_was_found_and_what_was_expected(
    definition, line, column, expected, found
):
    error = error_of(definition)
    assert (error.line, error.column) == (line, column)
    assert str(error).startswith(f"line {line}, column {column}: ")
    if expected is not None:
        assert error.expected == expected
    if found is not None:
        assert error.found == found


def test_a_custom_property_declared_with_an_unknown_type_is_refused():
    error = error_of("x eq 1", {"x": "integer"})
    assert "x is declared with the unknown type 'integer'" in str(error)


# Limits


def test_a_definition_of_at_most_4000_characters_is_accepted():
    definition = "userId eq '" + "x" * (MAX_LENGTH - len("userId eq ''")) + "'"
    assert len(definition) == MAX_LENGTH
    check_definition(definition, {})


def test_a_longer_definition_is_refused():
    definition = "userId eq '" + "x" * (MAX_LENGTH - len("userId eq ''") + 1) + "'"
    error = error_of(definition)
    assert error.offset == MAX_LENGTH
    assert "at most 4,000 characters; this one has 4,001" in str(error)


def test_nesting_is_limited_to_50_levels():
    check_definition("(" * MAX_DEPTH + "exists(userId)" + ")" * MAX_DEPTH, {})
    check_definition("not " * MAX_DEPTH + "exists(userId)", {})
    error = error_of("(" * (MAX_DEPTH + 1) + "exists(userId)" + ")" * (MAX_DEPTH + 1))
    assert error.column == MAX_DEPTH + 1 and "deeper than 50 levels" in str(error)
    assert "deeper than 50 levels" in str(error_of("not " * (MAX_DEPTH + 1) + "exists(userId)"))
    assert "deeper than 50 levels" in str(error_of("not (" * 26 + "exists(userId)" + ")" * 26))


def test_a_list_holds_at_most_1000_values():
    empty_strings = ",".join(["''"] * MAX_LIST_ITEMS)
    check_definition(f"userId in ({empty_strings})", {})
    error = error_of(f"userId in ({','.join(['1'] * (MAX_LIST_ITEMS + 1))})")
    assert "a list holds at most 1,000 values" in str(error)
    assert (error.offset, error.found) == (
        len("userId in (") + 2 * MAX_LIST_ITEMS - 1,
        "value number 1,001",
    )


# The property catalogue


def test_the_built_in_properties_are_app_centers():
    names = [info.name for info in BUILT_IN_PROPERTIES]
    assert names[:3] == ["appVersion", "deviceOsVersion", "carrierCountry"]
    assert {"osApiLevel", "model", "oemName", "screenSize", "userId", "platform", "locale"} <= set(
        names
    )
    assert {"language", "timeZone", "firstSeen", "lastSeen", "pushEnabled", "categories"} <= set(
        names
    )
    assert all(info.description for info in BUILT_IN_PROPERTIES)


def test_available_properties_add_the_custom_ones_sorted_by_name():
    properties = available_properties({"dog-lover": "boolean", "model": "string", "bad": "integer"})
    names = [info.name for info in properties]
    assert names == sorted(names, key=str.casefold)
    assert PropertyInfo("dog-lover", "boolean", "A custom boolean property.") in properties
    assert names.count("model") == 1 and "bad" not in names
    assert len(properties) == len(BUILT_IN_PROPERTIES) + 1


def test_check_definition_accepts_every_kind_of_test():
    check_definition(
        "appVersion ge '2.1' and carrierCountry in ('US', 'CA') and not exists(userId) "
        "or (lastSeen gt now-30d and pushEnabled eq true and categories contains 'offers') "
        "or dog-breed startswith 'Golden' or score >= -1.5 "
        "or signup.at < 2026-01-31T09:00:00+01:00",
        CUSTOM,
    )
