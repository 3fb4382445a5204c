"""An app's setup as a checklist: what is done, what to do next, and where it is done.

The steps of devices come first (credentials, a client key, a device, its user); the apps above
devices add theirs (the first notification, launches) with `add_steps` from their
AppConfig.ready(), so devices names none of them. Each step costs at most one query; the
credentials come with the app (select_related) when the caller fetched them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Min
from django.urls import reverse

from devices import sending, tasks
from devices.models import ApiToken, MobileApp, Platform, TokenKind, ValidationStatus
from devices.providers import registry


@dataclass(frozen=True)
class Line:
    """One platform's state within a step: `state` is done, open, checking or failing."""

    label: str
    text: str
    state: str


@dataclass(frozen=True)
class Step:
    """One step of the checklist; `todo` and `link` say what to do next while it is open."""

    key: str
    title: str
    done: bool
    text: str
    todo: str = ""
    link: tuple[str, str] | None = None
    lines: list[Line] = field(default_factory=list)


@dataclass(frozen=True)
class SetupStatus:
    steps: list[Step]

    @property
    def done(self) -> int:
        return sum(step.done for step in self.steps)

    @property
    def ready(self) -> bool:
        return self.done == len(self.steps)

    @property
    def checking(self) -> bool:
        return any(line.state == "checking" for step in self.steps for line in step.lines)

    def summary(self) -> str:
        """ "Ready", or how many steps are done, as the apps list shows it."""
        return "Ready" if self.ready else f"{self.done} of {len(self.steps)} steps"


StepMaker = Callable[[MobileApp], list[Step]]
_added: list[StepMaker] = []


def add_steps(maker: StepMaker) -> None:
    """Add steps that an app above devices knows about, after devices' own."""
    if maker not in _added:
        _added.append(maker)


def status(app: MobileApp) -> SetupStatus:
    """Compute the app's checklist now."""
    platforms = _platform_facts(app)
    steps = [
        credentials_step(app),
        client_key_step(app),
        device_step(app, platforms),
        user_step(app, platforms),
    ]
    for maker in _added:
        steps.extend(maker(app))
    return SetupStatus(steps)


def when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else ""


def app_page(app: MobileApp, anchor: str = "") -> str:
    return reverse("admin:devices_mobileapp_change", args=[app.pk]) + anchor


def credential_line(app: MobileApp, platform: str) -> Line:
    """Say where one platform's credential stands: not set, checking, proved or failing."""
    label, provider = Platform(platform).label, registry.NAMES[platform]
    stored = sending.credential(app, platform)
    if stored is None:
        return Line(label, "not set", "open")
    if tasks.is_checking(stored):
        return Line(label, f"Checking with {provider}…", "checking")
    if stored.validation_status == ValidationStatus.VALID:
        return Line(label, f"proved valid by {provider} on {when(stored.validated_at)}", "done")
    if stored.validation_status == ValidationStatus.INVALID:
        return Line(label, f"{provider} refused it: {stored.validation_message}", "failing")
    return Line(label, "set, not proved yet: press Validate credentials", "open")


def credentials_step(app: MobileApp) -> Step:
    """Done when the app has a credential and every credential it has is proved valid."""
    lines = [credential_line(app, platform) for platform in registry.PLATFORMS]
    set_lines = [line for line in lines if line.text != "not set"]
    done = bool(set_lines) and all(line.state == "done" for line in set_lines)
    if done:
        text = "Every credential set was proved with its provider."
    elif not set_lines:
        text = "No provider credential yet."
    else:
        text = "A credential is not proved yet."
    return Step(
        "credentials",
        "Provider credentials",
        done,
        text,
        todo="Add the APNs, FCM or WNS credential of each platform below and save: saving "
        "proves it with the provider.",
        link=("Credentials", app_page(app, "#apns_credential-group")),
        lines=lines,
    )


def client_key_step(app: MobileApp) -> Step:
    """Done when the app has an active client key, the key its builds ship."""
    keys = ApiToken.objects.filter(app=app, kind=TokenKind.CLIENT, revoked_at__isnull=True)
    first = keys.order_by("created_at").values_list("created_at", flat=True).first()
    return Step(
        "client_key",
        "A client key for the app's builds",
        first is not None,
        f"Made on {when(first)}." if first else "No client key yet.",
        todo="Make a client key: it ships inside the app and can only register its own device.",
        link=("Make a client key", make_client_key_url(app)),
    )


def make_client_key_url(app: MobileApp) -> str:
    return f"{reverse('admin:devices_apitoken_add')}?app={app.pk}&kind={TokenKind.CLIENT}"


def _platform_facts(app: MobileApp) -> dict[str, dict]:
    """Per platform: when its first device registered and how many have a user (one query)."""
    rows = (
        app.devices.values("platform")
        .annotate(first=Min("first_seen"), users=Count("user_id"))
        .order_by()
    )
    return {row["platform"]: row for row in rows}


def device_step(app: MobileApp, platforms: dict[str, dict]) -> Step:
    """Done when a device registered; each platform with a credential or device is listed."""
    lines = []
    for platform in registry.PLATFORMS:
        if platform not in platforms and platform not in app.platforms():
            continue
        first = platforms.get(platform, {}).get("first")
        label = Platform(platform).label
        if first:
            lines.append(Line(label, f"first registered on {when(first)}", "done"))
        else:
            lines.append(Line(label, "no device yet", "open"))
    return Step(
        "device",
        "A device registered",
        bool(platforms),
        "A device registered through the API." if platforms else "No device has registered.",
        todo="Build the app with the registration snippet below and start it on a device.",
        link=("Snippets", app_page(app, "#setup-snippets")),
        lines=lines,
    )


def user_step(app: MobileApp, platforms: dict[str, dict]) -> Step:
    """Done when a device was mapped to its user, so sends can target people."""
    mapped = sum(row["users"] for row in platforms.values())
    return Step(
        "user",
        "A device mapped to its user",
        mapped > 0,
        f"{mapped} device(s) have a user." if mapped else "No device has a user yet.",
        todo="After sign-in, set the device's user with the user snippet below.",
        link=("Snippets", app_page(app, "#setup-snippets")),
    )
