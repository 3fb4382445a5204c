"""Seed the demo: an organization, two apps with credentials, a user per role, a token per app.

Seeding is idempotent: a second run keeps what the first made, including the passwords and API
tokens it recorded in var/demo.json.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction

from devices import sample_credentials
from devices.models import ApnsCredential, FcmCredential, MobileApp, Organization, WnsCredential
from devices.services import authenticate_token, issue_api_token
from pushcenter import roles

DEMO_FILE = "demo.json"
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
    app.developers.add(developer)
    for platform in platforms:
        _seed_credential(app, platform)
    return {
        "owner_name": organization.name,
        "app_name": app.name,
        "organization_id": str(organization.organization_id),
        "application_id": str(app.application_id),
        "api_token": _demo_token(app, previous),
        "platforms": app.platforms(),
    }


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


def _demo_token(app: MobileApp, previous: dict) -> str:
    for known in previous.get("apps", []):
        if known.get("application_id") == str(app.application_id):
            token = authenticate_token(known.get("api_token", ""))
            if token is not None and token.app_id == app.pk:
                return known["api_token"]
    _, plaintext = issue_api_token(app, "Demo")
    return plaintext
