"""Translate notification content through the backend named by settings.TRANSLATOR.

"offline" marks each text with its target language, for the demo and tests; "azure" calls Azure
Translator v3. Either way personalization tokens ({{ … }} and {% … %}) come back byte for byte,
and each translation is cached for a day so re-saving a notification does not pay twice.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Protocol

import httpx
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

CACHE_SECONDS = 24 * 60 * 60

# A web request (save, preview) waits on every call: one retry, five seconds of waiting at most.
TIMEOUT_SECONDS = 10.0
TRIES = 2
MAX_WAIT_SECONDS = 5.0
DEFAULT_RETRY_AFTER_SECONDS = 1.0

# Azure's documented request limits for /translate; characters count once per target language.
MAX_ELEMENTS = 1000
MAX_REQUEST_CHARS = 50_000

# What Azure answers and what we do about it:
#   200            translated
#   429, 5xx       retry once after Retry-After (if it fits MAX_WAIT_SECONDS), else fail
#   anything else  fail at once with Azure's own message and code, e.g. 401000 for a bad key
RETRYABLE = {429, 500, 502, 503, 504}

# Our content codes are lower case; Azure spells scripts and regions its own way.
AZURE_CODES = {"zh-hans": "zh-Hans", "zh-hant": "zh-Hant", "fr-ca": "fr-CA", "pt-pt": "pt-PT"}

# A personalization token: a Jinja expression or statement. Quoted strings are skipped whole so
# that a "}}" or "%}" inside one does not end the token.
_SINGLE = r"'(?:[^'\\]|\\.)*'"
_DOUBLE = r'"(?:[^"\\]|\\.)*"'
_EXPRESSION = r"\{\{(?:" + _SINGLE + "|" + _DOUBLE + r"""|[^'"}]|\}(?!\}))*\}\}"""
_STATEMENT = r"\{%(?:" + _SINGLE + "|" + _DOUBLE + r"""|[^'"%]|%(?!\}))*%\}"""
TOKEN = re.compile(f"({_EXPRESSION}|{_STATEMENT})")
NOTRANSLATE = '<span class="notranslate">{}</span>'
NOTRANSLATE_SPAN = re.compile(r'<span class="notranslate">(.*?)</span>', re.DOTALL)


class TranslationError(Exception):
    """A translation failed; the message is fit to show a marketer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Translator(Protocol):
    name: str

    def translate(
        self, texts: list[str], source: str, target_codes: list[str]
    ) -> dict[str, list[str]]: ...


class OfflineTranslator:
    """Mark each text with its target language: no network, the same answer every time."""

    name = "offline"

    def translate(
        self, texts: list[str], source: str, target_codes: list[str]
    ) -> dict[str, list[str]]:
        return {
            target: [f"[{target}] {text}" if text else "" for text in texts]
            for target in target_codes
        }


class AzureTranslator:
    """Translate through Azure Translator v3 (POST /translate), splitting at its request limits."""

    name = "azure"
    # How a Retry-After is waited out; a test puts a recorder here instead of waiting.
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def __init__(
        self, url: str, key: str, region: str = "", timeout: float = TIMEOUT_SECONDS
    ) -> None:
        self.url = url.rstrip("/") + "/translate"
        self.key = key
        self.region = region
        self.timeout = timeout

    def translate(
        self, texts: list[str], source: str, target_codes: list[str]
    ) -> dict[str, list[str]]:
        documents = [to_html(text) for text in texts]
        check_sizes(documents)
        answers: dict[str, list[str]] = {target: [] for target in target_codes}
        for targets, chunk in batches(documents, target_codes):
            for target, translated in self.translate_batch(chunk, source, targets).items():
                answers[target].extend(translated)
        return {
            target: [
                from_html(answer, text) for answer, text in zip(translated, texts, strict=True)
            ]
            for target, translated in answers.items()
        }

    def translate_batch(
        self, documents: list[str], source: str, targets: list[str]
    ) -> dict[str, list[str]]:
        """Translate one request's worth of HTML documents; return Azure's HTML per target."""
        params = [("api-version", "3.0"), ("from", azure_code(source)), ("textType", "html")]
        params += [("to", azure_code(target)) for target in targets]
        response = self.send(params, [{"Text": document} for document in documents])
        if response.status_code != 200:
            raise self.refusal(response)
        return read_answer(response, len(documents), targets)

    def send(self, params: list[tuple[str, str]], body: list[dict]) -> httpx.Response:
        """POST, retrying a 429 or 5xx once when its Retry-After fits the waiting budget."""
        response = self.post(params, body)
        waited = 0.0
        for _ in range(TRIES - 1):
            delay = retry_after(response)
            if response.status_code not in RETRYABLE or waited + delay > MAX_WAIT_SECONDS:
                break
            logger.warning(
                "Azure Translator answered %s; retrying in %.1f s", response.status_code, delay
            )
            self.sleep(delay)
            waited += delay
            response = self.post(params, body)
        return response

    def post(self, params: list[tuple[str, str]], body: list[dict]) -> httpx.Response:
        try:
            return httpx.post(
                self.url,
                params=params,
                json=body,
                headers=self.headers(),
                timeout=self.timeout,
                follow_redirects=False,
            )
        except httpx.TimeoutException as exc:
            raise TranslationError(
                f"Azure Translator did not answer within {self.timeout:g} s"
            ) from exc
        except httpx.HTTPError as exc:
            raise TranslationError(f"Could not reach Azure Translator: {exc}") from exc

    def headers(self) -> dict[str, str]:
        # The trace id lets Azure support find a failed request in their logs.
        headers = {"Ocp-Apim-Subscription-Key": self.key, "X-ClientTraceId": str(uuid.uuid4())}
        if self.region:
            headers["Ocp-Apim-Subscription-Region"] = self.region
        return headers

    def refusal(self, response: httpx.Response) -> TranslationError:
        """Turn an error answer into a TranslationError quoting Azure's message and code."""
        code, message = error_body(response)
        if not message:
            return TranslationError(f"Azure Translator answered HTTP {response.status_code}")
        # Azure does not echo the key, but a message is shown on screen: make sure of it.
        message = message.replace(self.key, "[key]") if self.key else message
        verb = "failed" if response.status_code >= 500 else "refused the request"
        return TranslationError(f"Azure Translator {verb}: {message} (code {code})")


def translator() -> Translator:
    """Return the backend named by settings.TRANSLATOR."""
    if settings.TRANSLATOR == "offline":
        return OfflineTranslator()
    if settings.TRANSLATOR != "azure":
        raise ImproperlyConfigured(
            f"TRANSLATOR must be 'offline' or 'azure', not {settings.TRANSLATOR!r}"
        )
    if not settings.AZURE_TRANSLATOR_KEY:
        raise ImproperlyConfigured("AZURE_TRANSLATOR_KEY must be set when TRANSLATOR is azure")
    return AzureTranslator(
        settings.AZURE_TRANSLATOR_URL,
        settings.AZURE_TRANSLATOR_KEY,
        settings.AZURE_TRANSLATOR_REGION,
    )


def translate(texts: list[str], source: str, targets: list[str]) -> dict[str, list[str]]:
    """Translate texts from source into each target: {target: [translation of each text]}.

    Empty texts stay empty and the source language keeps the texts as they are, without a call;
    translations already cached are not asked for again.
    """
    check_languages([source, *targets])
    backend = translator()
    known = cached(backend.name, source, targets, texts)
    for group, missing in missing_by_target(source, targets, texts, known).items():
        fresh = backend.translate(list(missing), source, list(group))
        remember(backend.name, source, fresh, list(missing), known)
    return {target: [known.get((target, text), text) for text in texts] for target in targets}


def check_languages(codes: list[str]) -> None:
    languages = {code for code, _ in settings.LANGUAGES}
    for code in codes:
        if code not in languages:
            raise ValueError(f"Unknown language code {code!r}: not in settings.LANGUAGES")


def wanted(source: str, targets: list[str], texts: list[str]) -> list[tuple[str, str]]:
    """Return the (target, text) pairs that need a translation, each once."""
    pairs = ((target, text) for target in targets for text in texts if text)
    return list(dict.fromkeys(pair for pair in pairs if pair[0] != source))


def cache_key(backend: str, source: str, target: str, text: str) -> str:
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f"translation:{backend}:{source}:{target}:{digest}"


def cached(
    backend: str, source: str, targets: list[str], texts: list[str]
) -> dict[tuple[str, str], str]:
    """Return the cached translations of the wanted pairs, keyed by (target, text)."""
    keys = {cache_key(backend, source, *pair): pair for pair in wanted(source, targets, texts)}
    return {keys[key]: value for key, value in cache.get_many(list(keys)).items()}


def missing_by_target(
    source: str, targets: list[str], texts: list[str], known: dict[tuple[str, str], str]
) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Group the targets that lack the same texts, so that each group costs one backend call."""
    missing: dict[str, list[str]] = {}
    for target, text in wanted(source, targets, texts):
        if (target, text) not in known:
            missing.setdefault(target, []).append(text)
    groups: dict[tuple[str, ...], list[str]] = {}
    for target, lacking in missing.items():
        groups.setdefault(tuple(lacking), []).append(target)
    return {tuple(group): lacking for lacking, group in groups.items()}


def remember(
    backend: str,
    source: str,
    fresh: dict[str, list[str]],
    texts: list[str],
    known: dict[tuple[str, str], str],
) -> None:
    """Add fresh translations to known and to the cache."""
    entries = {}
    for target, translations in fresh.items():
        for text, translation in zip(texts, translations, strict=True):
            known[(target, text)] = translation
            entries[cache_key(backend, source, target, text)] = translation
    cache.set_many(entries, CACHE_SECONDS)


def azure_code(code: str) -> str:
    return AZURE_CODES.get(code, code)


def to_html(text: str) -> str:
    """Escape text as HTML, wrapping each personalization token so that Azure leaves it alone."""
    pieces = TOKEN.split(text)  # text, token, text, token, …, text
    return "".join(
        NOTRANSLATE.format(html.escape(piece, quote=False))
        if index % 2
        else html.escape(piece, quote=False)
        for index, piece in enumerate(pieces)
    )


def from_html(answer: str, text: str) -> str:
    """Unwrap and unescape Azure's HTML answer, refusing one whose tokens are not the original's."""
    returned = [html.unescape(token) for token in NOTRANSLATE_SPAN.findall(answer)]
    if Counter(returned) != Counter(TOKEN.findall(text)):
        raise TranslationError(
            "Azure Translator changed the personalization tokens of a text; "
            "translate it by hand: " + text[:100]
        )
    return html.unescape(NOTRANSLATE_SPAN.sub(r"\1", answer))


def size(document: str) -> int:
    # Count UTF-16 code units: never fewer than the characters Azure counts.
    return len(document.encode("utf-16-le")) // 2


def check_sizes(documents: list[str]) -> None:
    for document in documents:
        if size(document) > MAX_REQUEST_CHARS:
            raise TranslationError(
                f"A text of {size(document):,} characters is longer than Azure Translator "
                f"accepts ({MAX_REQUEST_CHARS:,} in all)"
            )


def batches(documents: list[str], targets: list[str]) -> Iterator[tuple[list[str], list[str]]]:
    """Yield (targets, documents) requests within Azure's limits, documents in order per target."""
    longest = max(map(size, documents), default=0)
    per_request = max(1, MAX_REQUEST_CHARS // max(longest, 1))
    for start in range(0, len(targets), per_request):
        group = targets[start : start + per_request]
        for chunk in document_chunks(documents, len(group)):
            yield group, chunk


def document_chunks(documents: list[str], target_count: int) -> Iterator[list[str]]:
    """Split documents into runs that fit one request to target_count languages."""
    chunk: list[str] = []
    chars = 0
    for document in documents:
        cost = size(document) * target_count
        if chunk and (len(chunk) == MAX_ELEMENTS or chars + cost > MAX_REQUEST_CHARS):
            yield chunk
            chunk, chars = [], 0
        chunk.append(document)
        chars += cost
    if chunk:
        yield chunk


def retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return DEFAULT_RETRY_AFTER_SECONDS


def error_body(response: httpx.Response) -> tuple[int | None, str]:
    """Return Azure's documented error code and message, or (None, "") for another body."""
    try:
        error = response.json()["error"]
        return int(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return None, ""


def read_answer(response: httpx.Response, count: int, targets: list[str]) -> dict[str, list[str]]:
    """Return Azure's translations per target from a 200 answer, checking its shape."""
    try:
        rows = [
            {item["to"].lower(): item["text"] for item in entry["translations"]}
            for entry in response.json()
        ]
        if len(rows) != count:
            raise ValueError(f"{len(rows)} translations for {count} texts")
        return {target: [row[azure_code(target).lower()] for row in rows] for target in targets}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise TranslationError(
            "Azure Translator sent an answer Push Center could not read"
        ) from exc
