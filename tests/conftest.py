"""Shared fixtures. The same personas appear in every test:

- alice: App administrator, member of contoso — its organization, apps, credentials, API
  tokens and people.
- bob: Marketer, member of contoso — reads its apps; never sees credentials or API tokens.
- carol: Developer given contoso/retail only — that app's API tokens, nothing of contoso/news.
- dave: Marketer given contoso/retail only — nothing of contoso/news.
- root: superuser.

Two apps of the organization contoso: retail (iOS + Android) and news (Windows). Nobody but
root sees an app they (or their organization) are not given.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client

from campaigns.models import SendingRules
from devices import sample_credentials
from devices.models import (
    ApnsCredential,
    FcmCredential,
    MobileApp,
    Organization,
    TokenKind,
    WnsCredential,
)
from devices.services import issue_api_token
from pushcenter import roles

PASSWORD = "correct horse battery staple"


def make_user(username: str, role: str | None = None, **fields: object) -> User:
    user = User.objects.create_user(
        username, f"{username}@example.com", PASSWORD, is_staff=True, **fields
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def organization(db) -> Organization:
    return Organization.objects.create(name="contoso", display_name="Contoso")


@pytest.fixture
def retail(organization) -> MobileApp:
    app = MobileApp.objects.create(organization=organization, name="retail", display_name="Retail")
    apns = ApnsCredential(
        app=app, key_id="ABCDE12345", team_id="TEAM123456", bundle_id="com.contoso.retail"
    )
    apns.store_secret({"signing_key": sample_credentials.p8_signing_key().decode()})
    apns.save()
    fcm = FcmCredential(
        app=app,
        project_id="contoso-retail",
        client_email="push@contoso-retail.iam.gserviceaccount.com",
    )
    fcm.store_secret(
        {"service_account": sample_credentials.service_account("contoso-retail").decode()}
    )
    fcm.save()
    return app


@pytest.fixture
def news(organization) -> MobileApp:
    app = MobileApp.objects.create(organization=organization, name="news", display_name="News")
    wns = WnsCredential(
        app=app,
        tenant_id="11111111-1111-4111-8111-111111111111",
        client_id="22222222-2222-4222-8222-222222222222",
        object_id="33333333-3333-4333-8333-333333333333",
        package_family_name="Contoso.News_8wekyb3d8bbwe",
    )
    wns.store_secret({"client_secret": "wns-client-secret-value"})
    wns.save()
    return app


PACKAGE_SID = (
    "ms-app://s-1-15-2-2972962901-2322836549-3722629029-1345238579-3987825745-2155616079-650196962"
)


@pytest.fixture
def store(organization) -> MobileApp:
    """A Windows app registered in Partner Center: its WNS credential is a Package SID's."""
    app = MobileApp.objects.create(organization=organization, name="store", display_name="Store")
    wns = WnsCredential(
        app=app,
        auth_flow=WnsCredential.AuthFlow.PACKAGE_SID,
        package_sid=PACKAGE_SID,
        package_family_name="Contoso.Store_8wekyb3d8bbwe",
    )
    wns.store_secret({"client_secret": "store-client-secret-value"})
    wns.save()
    return app


@pytest.fixture
def alice(organization) -> User:
    user = make_user("alice", roles.APP_ADMINISTRATOR)
    organization.members.add(user)
    return user


@pytest.fixture
def bob(organization) -> User:
    user = make_user("bob", roles.MARKETER)
    organization.members.add(user)
    return user


@pytest.fixture
def carol(retail) -> User:
    user = make_user("carol", roles.DEVELOPER)
    retail.members.add(user)
    return user


@pytest.fixture
def dave(retail) -> User:
    """A marketer given one app, retail, and not its organization."""
    user = make_user("dave", roles.MARKETER)
    retail.members.add(user)
    return user


@pytest.fixture
def root(db) -> User:
    return make_user("root", is_superuser=True)


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def retail_token(retail) -> str:
    return issue_api_token(retail, "Retail backend")[1]


@pytest.fixture
def news_token(news) -> str:
    return issue_api_token(news, "News backend")[1]


@pytest.fixture
def retail_client_key(retail) -> str:
    """The key the retail app ships inside its iOS and Android builds."""
    return issue_api_token(retail, "Retail app", kind=TokenKind.CLIENT)[1]


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """Start each test with an empty cache, so no earlier test's rate counters count against it."""
    cache.clear()


@pytest.fixture
def no_caps(retail) -> MobileApp:
    """retail without its frequency cap, for tests that send to one device more than once."""
    set_sending_rules(retail, min_interval_minutes=0)
    return retail


def set_sending_rules(app: MobileApp, **rules: object) -> SendingRules:
    """Give the app these sending rules; the others keep their defaults."""
    found, _ = SendingRules.objects.update_or_create(app=app, defaults=rules)
    app.sending_rules = found  # what this app object reads from now on
    return found


def send_due(notification) -> None:
    """Claim and send the notification's due deliveries, batch after batch, as a worker does."""
    from campaigns import delivery

    while ids := delivery.claim(notification.pk):
        delivery.send_batch(ids)
