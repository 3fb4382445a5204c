"""Automatic translation of notification content (campaigns/translator.py).

The Azure client talks to tests/fake_translator.py, a loopback server that enforces Azure
Translator v3's documented API and limits, so every assertion is about bytes on the wire.
"""

from __future__ import annotations

import json

import httpx
import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from campaigns import translator
from campaigns.translator import AzureTranslator, TranslationError, translate
from tests.fake_translator import FakeTranslator

TOKENS = (
    "{{ first_name|default('there') }}",
    '{{ "Mr \\"X\\"" ~ last_name }}',
    "{{ cart.total | round(2) }}",
    "{% if vip %}",
    "{% endif %}",
)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def fake():
    with FakeTranslator() as server:
        yield server


@pytest.fixture
def azure(settings, fake):
    settings.TRANSLATOR = "azure"
    settings.AZURE_TRANSLATOR_URL = fake.url
    settings.AZURE_TRANSLATOR_KEY = "test-key"
    settings.AZURE_TRANSLATOR_REGION = ""
    return fake


def body_texts(received) -> list[str]:
    return [item["Text"] for item in received.body]


def test_it_translates_to_several_targets_in_one_request(azure):
    result = translate(["Hello", "Sale ends today"], "en", ["fr", "zh-hans", "pt-pt"])

    assert result == {
        "fr": ["[fr] HELLO", "[fr] SALE ENDS TODAY"],
        "zh-hans": ["[zh-Hans] HELLO", "[zh-Hans] SALE ENDS TODAY"],
        "pt-pt": ["[pt-PT] HELLO", "[pt-PT] SALE ENDS TODAY"],
    }
    [received] = azure.requests
    assert received.params == {
        "api-version": ["3.0"],
        "from": ["en"],
        "textType": ["html"],
        "to": ["fr", "zh-Hans", "pt-PT"],
    }
    assert received.headers["Content-Type"] == "application/json"
    assert received.body == [{"Text": "Hello"}, {"Text": "Sale ends today"}]


def test_it_keeps_personalization_tokens_exactly(azure):
    text = "Hi " + " and ".join(TOKENS) + " bye"

    [result] = translate([text], "en", ["de"])["de"]

    assert result == "[de] HI " + " AND ".join(TOKENS) + " BYE"


def test_it_wraps_tokens_in_notranslate_spans_on_the_wire(azure):
    translate(["Hi {{ name|default('you') }} & co"], "en", ["fr"])

    assert body_texts(azure.requests[0]) == [
        "Hi <span class=\"notranslate\">{{ name|default('you') }}</span> &amp; co"
    ]


def test_it_round_trips_html_special_characters(azure):
    text = "Tom & Jerry <3 \"quotes\" 'single' &amp; <b>not markup</b>"

    [result] = translate([text], "en", ["fr"])["fr"]

    assert result == "[fr] " + text.upper()
    assert body_texts(azure.requests[0]) == [
        "Tom &amp; Jerry &lt;3 \"quotes\" 'single' &amp;amp; &lt;b&gt;not markup&lt;/b&gt;"
    ]


def test_it_escapes_html_inside_tokens(azure):
    text = '{% if points < 10 and tier == "a&b" %}Almost there{% endif %}'

    [result] = translate([text], "en", ["nl"])["nl"]

    assert result == '[nl] {% if points < 10 and tier == "a&b" %}ALMOST THERE{% endif %}'


def test_the_fake_enforces_the_documented_limits(fake):
    too_many = [{"Text": "x"}] * 1001
    too_long = [{"Text": "x" * 25_001}]

    answers = [
        httpx.post(
            f"{fake.url}/translate",
            params=params,
            json=body,
            headers={"Ocp-Apim-Subscription-Key": "test-key"},
        )
        for params, body in [
            ({"api-version": "3.0", "to": "fr"}, too_many),
            ({"api-version": "3.0", "to": ["fr", "de"]}, too_long),
        ]
    ]

    assert [answer.status_code for answer in answers] == [400, 400]
    assert [answer.json()["error"]["code"] for answer in answers] == [400072, 400077]


def test_it_splits_requests_over_1000_texts(azure):
    texts = [f"Offer {number}" for number in range(1001)]

    result = translate(texts, "en", ["fr"])

    assert result["fr"] == [f"[fr] OFFER {number}" for number in range(1001)]
    assert [len(received.body) for received in azure.requests] == [1000, 1]


def test_it_splits_requests_over_50000_characters_counting_every_target(azure):
    texts = [f"{letter}" * 20_000 for letter in "abc"]

    result = translate(texts, "en", ["fr"])

    assert result["fr"] == [f"[fr] {text.upper()}" for text in texts]
    assert [len(received.body) for received in azure.requests] == [2, 1]


def test_it_splits_targets_when_one_text_times_targets_is_over_50000_characters(azure):
    targets = ["de", "es", "it", "nl", "sv", "fi"]
    text = "x" * 10_000

    result = translate([text], "en", targets)

    assert result == {target: [f"[{target}] {'X' * 10_000}"] for target in targets}
    assert [received.params["to"] for received in azure.requests] == [
        ["de", "es", "it", "nl", "sv"],
        ["fi"],
    ]


def test_it_refuses_a_text_longer_than_azure_accepts_without_a_call(azure):
    with pytest.raises(TranslationError, match="50,000"):
        translate(["x" * 50_001], "en", ["fr"])

    assert azure.requests == []


def test_it_caches_translations(azure):
    first = translate(["Hello", "Bye"], "en", ["fr", "de"])
    second = translate(["Hello", "Bye"], "en", ["fr", "de"])

    assert second == first
    assert len(azure.requests) == 1


def test_it_asks_only_for_what_the_cache_lacks(azure):
    translate(["Hello"], "en", ["fr"])

    result = translate(["Hello", "Welcome"], "en", ["fr", "de"])

    assert result == {"fr": ["[fr] HELLO", "[fr] WELCOME"], "de": ["[de] HELLO", "[de] WELCOME"]}
    assert [(r.params["to"], body_texts(r)) for r in azure.requests] == [
        (["fr"], ["Hello"]),
        (["fr"], ["Welcome"]),
        (["de"], ["Hello", "Welcome"]),
    ]


def test_it_keeps_empty_texts_and_the_source_language_without_a_call(azure):
    result = translate(["", "Hello", ""], "en", ["en", "fr"])

    assert result == {"en": ["", "Hello", ""], "fr": ["", "[fr] HELLO", ""]}
    assert [body_texts(received) for received in azure.requests] == [["Hello"]]


def test_it_makes_no_call_when_there_is_nothing_to_translate(azure):
    assert translate(["", ""], "en", ["fr"]) == {"fr": ["", ""]}
    assert translate(["Hello"], "fr", ["fr"]) == {"fr": ["Hello"]}
    assert azure.requests == []


def test_it_reports_401_with_azures_message_and_code_without_the_key(azure, settings):
    settings.AZURE_TRANSLATOR_KEY = "wrong-key-1234"

    with pytest.raises(TranslationError) as raised:
        translate(["Hello"], "en", ["fr"])

    assert str(raised.value) == (
        "Azure Translator refused the request: The request isn't authorized because "
        "credentials are missing or invalid. (code 401000)"
    )
    assert "wrong-key-1234" not in str(raised.value)
    assert len(azure.requests) == 1


def test_it_does_not_retry_a_refusal(azure):
    azure.fail_next(403)

    with pytest.raises(TranslationError, match=r"exceeded its free quota\. \(code 403001\)"):
        translate(["Hello"], "en", ["fr"])

    assert len(azure.requests) == 1


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The Retry-After waits the translator takes, recorded instead of slept."""
    taken: list[float] = []
    monkeypatch.setattr(AzureTranslator, "sleep", taken.append)
    return taken


def test_it_retries_429_after_retry_after_and_never_logs_the_key(azure, caplog, waits):
    azure.fail_next(429, retry_after="1")

    result = translate(["Hello"], "en", ["fr"])

    assert result == {"fr": ["[fr] HELLO"]}
    assert len(azure.requests) == 2
    assert waits == [1.0]
    assert "retrying in 1.0 s" in caplog.text
    assert "test-key" not in caplog.text


def test_it_does_not_wait_for_a_retry_after_over_its_budget(azure, waits):
    azure.fail_next(429, retry_after="30")

    with pytest.raises(TranslationError, match=r"exceeded request limits\. \(code 429000\)"):
        translate(["Hello"], "en", ["fr"])

    assert len(azure.requests) == 1
    assert waits == []


def test_it_gives_up_after_500_twice(azure):
    azure.fail_next(500, retry_after="0")
    azure.fail_next(500, retry_after="0")

    with pytest.raises(TranslationError) as raised:
        translate(["Hello"], "en", ["fr"])

    assert str(raised.value) == (
        "Azure Translator failed: An unexpected error occurred. (code 500000)"
    )
    assert len(azure.requests) == 2


def test_it_reports_a_timeout_without_retrying(fake):
    fake.hang_next()
    client = AzureTranslator(fake.url, "test-key", timeout=0.3)

    with pytest.raises(TranslationError) as raised:
        client.translate(["Hello"], "en", ["fr"])

    assert str(raised.value) == "Azure Translator did not answer within 0.3 s"
    assert len(fake.requests) == 1


def test_it_does_not_follow_redirects(azure):
    azure.fail_next(307)

    with pytest.raises(TranslationError, match="HTTP 307"):
        translate(["Hello"], "en", ["fr"])

    assert len(azure.requests) == 1


def test_it_sends_the_key_and_a_client_trace_id(azure):
    translate(["Hello"], "en", ["fr"])

    headers = azure.requests[0].headers
    assert headers["Ocp-Apim-Subscription-Key"] == "test-key"
    assert len(headers["X-ClientTraceId"]) == 36


def test_it_sends_the_region_header_only_when_set(azure, settings):
    translate(["Hello"], "en", ["fr"])
    settings.AZURE_TRANSLATOR_REGION = "westeurope"
    translate(["Hello"], "en", ["de"])

    regions = [r.headers.get("Ocp-Apim-Subscription-Region") for r in azure.requests]
    assert regions == [None, "westeurope"]


def test_it_maps_our_language_codes_to_azures(azure):
    translate(["Hi"], "zh-hant", ["fr-ca", "zh-hans", "pt", "nb"])

    assert azure.requests[0].params["from"] == ["zh-Hant"]
    assert azure.requests[0].params["to"] == ["fr-CA", "zh-Hans", "pt", "nb"]


def test_the_offline_translator_is_deterministic_and_token_safe(settings):
    settings.TRANSLATOR = "offline"
    text = "Hi " + " ".join(TOKENS)

    first = translate([text, ""], "en", ["fr", "ja"])
    cache.clear()
    second = translate([text, ""], "en", ["fr", "ja"])

    assert first == second == {"fr": [f"[fr] {text}", ""], "ja": [f"[ja] {text}", ""]}


@pytest.mark.parametrize(
    ("source", "targets", "code"),
    [("en", ["fr", "klingon"], "klingon"), ("xx", ["fr"], "xx"), ("en", ["FR"], "FR")],
)
def test_it_refuses_unknown_language_codes(settings, source, targets, code):
    settings.TRANSLATOR = "offline"

    with pytest.raises(ValueError, match=repr(code)):
        translate(["Hello"], source, targets)


def test_translator_follows_settings(settings):
    settings.TRANSLATOR = "offline"
    assert translator.translator().name == "offline"

    settings.TRANSLATOR = "azure"
    settings.AZURE_TRANSLATOR_KEY = "test-key"
    assert translator.translator().name == "azure"

    settings.AZURE_TRANSLATOR_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="AZURE_TRANSLATOR_KEY"):
        translator.translator()


def test_it_refuses_an_answer_that_lost_a_token(fake):
    client = AzureTranslator(fake.url, "test-key")
    fake.answer_next([{"translations": [{"text": "Salut {{ name }}", "to": "fr"}]}])

    with pytest.raises(TranslationError, match="personalization tokens"):
        client.translate(["Hi {{ name }}"], "en", ["fr"])


def test_it_refuses_an_answer_it_cannot_read(fake):
    client = AzureTranslator(fake.url, "test-key")
    fake.answer_next([{"translations": [{"text": "Bonjour", "to": "de"}]}])

    with pytest.raises(TranslationError, match="could not read"):
        client.translate(["Hello"], "en", ["fr"])


def test_error_bodies_are_azures_documented_shape(fake):
    answer = httpx.post(
        f"{fake.url}/translate?api-version=3.0&to=fr",
        content=b"[",
        headers={"Ocp-Apim-Subscription-Key": "test-key", "Content-Type": "application/json"},
    )

    assert answer.status_code == 400
    assert json.loads(answer.content) == {
        "error": {"code": 400074, "message": "The body of the request isn't valid JSON."}
    }
