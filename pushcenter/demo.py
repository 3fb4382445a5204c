"""Seed the demo: an organization, two apps with credentials, a user per role, a server token
and a client key per app, and for the retail app a welcome series, an event journey and a draft
A/B test.

Seeding is idempotent: a second run keeps what the first made, including the passwords and API
tokens it recorded in var/demo.json.
"""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction

from campaigns.models import Notification
from devices import sample_credentials
from devices.models import (
    ApnsCredential,
    FcmCredential,
    MobileApp,
    Organization,
    TokenKind,
    WnsCredential,
)
from devices.registration import register_device
from devices.services import authenticate_token, issue_api_token
from experiments import services as experiment_services
from journeys import services as journey_services
from journeys.models import Journey, Trigger
from pushcenter import roles

DEMO_FILE = "demo.json"
# demo.json names each app's server token api_token and the key its builds ship client_key.
DEMO_TOKEN_FIELDS = {TokenKind.SERVER: "api_token", TokenKind.CLIENT: "client_key"}
DEMO_USERS = [
    ("admin", "superuser"),
    ("appadmin", roles.APP_ADMINISTRATOR),
    ("marketer", roles.MARKETER),
    ("developer", roles.DEVELOPER),
]
DEMO_APPS = [
    ("retail", "Contoso Retail", ["ios", "android"]),
    ("news-windows", "Contoso News for Windows", ["windows"]),
]
# Store identifiers for the notification templates' links (made up, in the stores' formats).
DEMO_STORE_IDS = {
    "retail": {
        "app_store_id": "1234567890",
        "play_package_name": "com.contoso.retail",
        "deep_link_scheme": "contoso-retail",
        "latest_version": "2.3",
    },
    "news-windows": {"store_product_id": "9NBLGGH4R315", "latest_version": "5.1"},
}
# A small audience so segments and notifications have someone to count: (country, locale,
# time zone, app version) for each demo device of the retail app.
DEMO_DEVICES = [
    ("US", "en-US", "America/New_York", "2.3"),
    ("US", "en-US", "America/Los_Angeles", "2.1"),
    ("US", "es-US", "America/Chicago", "2.2"),
    ("CA", "fr-CA", "America/Toronto", "2.3"),
    ("FR", "fr-FR", "Europe/Paris", "2.0"),
    ("DE", "de-DE", "Europe/Berlin", "2.3"),
    ("GB", "en-GB", "Europe/London", "2.2"),
    ("BR", "pt-BR", "America/Sao_Paulo", "2.1"),
]
DEMO_FIRST_NAMES = ["Ana", "Ben", "Chloé", "Dev", "Émile", "Frieda", "Grace", "Hugo"]
# The demo's journeys: (wait, title, body) per step.
DEMO_WELCOME = [
    (
        timedelta(0),
        "Welcome to Contoso",
        "Hi {{ user.first_name | default('there') }}, glad you're here.",
    ),
    (timedelta(days=1), "Your first order ships free", "Use it on anything in store this week."),
]
DEMO_ON_SALE = [
    (
        timedelta(0),
        "Price drop",
        "{{ event.product_name | default('Something you saved') }} is now on sale.",
    )
]


def demo_file() -> Path:
    return Path(settings.VAR_DIR) / DEMO_FILE


def seed(url: str) -> dict:
    """Create or keep the demo data, write var/demo.json and return what it holds."""
    previous = _read_previous()
    with transaction.atomic():
        users = [_seed_user(name, role, previous) for name, role in DEMO_USERS]
        organization, _ = Organization.objects.get_or_create(
            name="contoso", defaults={"display_name": "Contoso"}
        )
        # The app administrator and the marketer work on the whole organization; the
        # developer is given each app.
        organization.members.add(*User.objects.filter(username__in=["appadmin", "marketer"]))
        developer = User.objects.get(username="developer")
        apps = [_seed_app(organization, spec, developer, previous) for spec in DEMO_APPS]
    facts = {"url": url, "users": users, "apps": apps}
    demo_file().parent.mkdir(parents=True, exist_ok=True)
    demo_file().write_text(json.dumps(facts, indent=2))
    return facts


def _read_previous() -> dict:
    try:
        return json.loads(demo_file().read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _seed_user(username: str, role: str, previous: dict) -> dict:
    known = {u["username"]: u["password"] for u in previous.get("users", [])}
    password = known.get(username) or secrets.token_urlsafe(9)
    user, _ = User.objects.get_or_create(username=username)
    user.is_staff = True
    user.is_superuser = role == "superuser"
    user.set_password(password)
    user.save()
    if role != "superuser":
        user.groups.set([Group.objects.get(name=role)])
    return {"username": username, "password": password, "role": role}


def _seed_app(organization: Organization, spec: tuple, developer: User, previous: dict) -> dict:
    name, display_name, platforms = spec
    app, _ = MobileApp.objects.get_or_create(
        organization=organization, name=name, defaults={"display_name": display_name}
    )
    app.members.add(developer)
    for platform in platforms:
        _seed_credential(app, platform)
    _seed_store_ids(app)
    if "ios" in platforms:
        _seed_devices(app)
        _seed_journeys(app)
        _seed_experiment(app)
    return {
        "owner_name": organization.name,
        "app_name": app.name,
        "organization_id": str(organization.organization_id),
        "application_id": str(app.application_id),
        "api_token": _demo_token(app, previous, TokenKind.SERVER),
        "client_key": _demo_token(app, previous, TokenKind.CLIENT),
        "platforms": app.platforms(),
    }


def _seed_store_ids(app: MobileApp) -> None:
    for field, value in DEMO_STORE_IDS.get(app.name, {}).items():
        if not getattr(app, field):
            setattr(app, field, value)
    app.custom_property_types.setdefault("first_name", "string")
    app.save()


def _seed_devices(app: MobileApp) -> None:
    """Register the demo devices (the same install IDs each run, so a re-run updates them)."""
    for n, (country, locale, zone, version) in enumerate(DEMO_DEVICES):
        ios = n % 2 == 0
        registration = {
            "platform": "ios" if ios else "android",
            "push_token": f"{n:02d}" * 32 if ios else f"demo-fcm-token-{n:02d}-" + "x" * 140,
            "user_id": f"demo-user-{n}",
            "locale": locale,
            "time_zone": zone,
            "properties": {"carrierCountry": country, "appVersion": version},
            "custom_properties": {"first_name": DEMO_FIRST_NAMES[n]},
            "categories": ["offers"] if n % 3 else ["offers", "news"],
        }
        register_device(app, uuid.uuid5(app.application_id, f"demo-{n}"), registration)


def _seed_journeys(app: MobileApp) -> None:
    """An active welcome series and an event journey, so the demo's new devices get them."""
    journeys = [
        ("Welcome series", Trigger.FIRST_REGISTRATION, "", DEMO_WELCOME),
        ("Saved item on sale", Trigger.EVENT, "product_on_sale", DEMO_ON_SALE),
    ]
    for name, trigger, event_name, steps in journeys:
        journey, made = Journey.objects.get_or_create(
            app=app, name=name, defaults={"trigger": trigger, "event_name": event_name}
        )
        if not made:
            continue
        for wait, title, body in steps:
            step = journey_services.add_step(journey)
            step.wait = wait
            step.save()
            Notification.objects.filter(pk=step.notification_id).update(
                title_en=title, body_en=body
            )
        journey_services.activate(journey)


def _seed_experiment(app: MobileApp) -> None:
    """A draft A/B test of two subject lines, ready to start."""
    if app.experiments.exists():
        return
    control = Notification.objects.create(
        app=app,
        name="Spring sale wording",
        platforms=app.platforms(),
        title_en="Spring sale: 20% off",
        body_en="Everything in store, this week only.",
    )
    experiment = experiment_services.create("Spring sale wording", control, None)
    variant_b = experiment_services.variants(experiment)[1].notification
    variant_b.title_en = "{{ user.first_name | default('Hi') }}, 20% off is yours"
    variant_b.save()


def _seed_credential(app: MobileApp, platform: str) -> None:
    if platform in app.platforms():
        return
    if platform == "ios":
        credential = ApnsCredential(
            app=app,
            key_id="DEMOKEY001",
            team_id="DEMOTEAM01",
            bundle_id=f"com.contoso.{app.name.replace('-', '')}",
            environment=ApnsCredential.Environment.SANDBOX,
        )
        credential.store_secret({"signing_key": sample_credentials.p8_signing_key().decode()})
    elif platform == "android":
        account = sample_credentials.service_account(f"contoso-{app.name}")
        facts = json.loads(account)
        credential = FcmCredential(
            app=app, project_id=facts["project_id"], client_email=facts["client_email"]
        )
        credential.store_secret({"service_account": account.decode()})
    else:
        credential = WnsCredential(
            app=app,
            tenant_id="00000000-0000-4000-8000-000000000001",
            client_id="00000000-0000-4000-8000-000000000002",
            object_id="00000000-0000-4000-8000-000000000003",
            package_family_name="Contoso.News_8wekyb3d8bbwe",
        )
        credential.store_secret({"client_secret": secrets.token_urlsafe(24)})
    credential.save()


def _demo_token(app: MobileApp, previous: dict, kind: TokenKind) -> str:
    """Keep the app's token of this kind from the last demo.json, or make one."""
    field = DEMO_TOKEN_FIELDS[kind]
    for known in previous.get("apps", []):
        if known.get("application_id") == str(app.application_id):
            token = authenticate_token(known.get(field, ""))
            if token is not None and token.app_id == app.pk and token.kind == kind:
                return known[field]
    name = "Demo server" if kind == TokenKind.SERVER else "Demo app"
    _, plaintext = issue_api_token(app, name, kind=kind)
    return plaintext
