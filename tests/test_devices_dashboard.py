"""Devices in the dashboard (read-only) and pruning retired devices."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from devices.models import Device, DeviceStatus
from tests.conftest import logged_in
from tests.test_device_api import FCM_TOKEN, SEED_BODY, put


@pytest.fixture
def devices(retail, retail_token):
    put(retail_token, retail, SEED_BODY, install="00000000-0000-4000-8000-000000000001")
    put(
        retail_token,
        retail,
        {
            "platform": "android",
            "push_token": FCM_TOKEN,
            "user_id": "bob@x.test",
            "account_id": "family-9",
            "locale": "de-DE",
            "properties": {"carrierCountry": "DE"},
        },
        install="00000000-0000-4000-8000-000000000002",
    )
    return {str(d.install_id): d for d in Device.objects.all()}


def test_a_marketer_lists_and_filters_devices(bob, devices):
    client = logged_in(bob)
    listing = client.get("/devices/device/").content.decode()
    assert "00000000-0000-4000-8000-000000000001" in listing and "bob@x.test" in listing
    german = client.get("/devices/device/", {"carrier_country": "DE"}).content.decode()
    assert "bob@x.test" in german and "andrew@contosoltd.com" not in german
    ios = client.get("/devices/device/", {"platform__exact": "ios"}).content.decode()
    assert "andrew@contosoltd.com" in ios and "bob@x.test" not in ios


@pytest.mark.parametrize(
    ("term", "found", "missing"),
    [
        ("00000000-0000-4000-8000-000000000002", "bob@x.test", "andrew@contosoltd.com"),
        ("andrew@contosoltd.com", "andrew@contosoltd.com", "bob@x.test"),
        ("family-9", "bob@x.test", "andrew@contosoltd.com"),
    ],
)
def test_search_finds_by_install_id_user_id_or_account_id(bob, devices, term, found, missing):
    page = logged_in(bob).get("/devices/device/", {"q": term}).content.decode()
    assert found in page and missing not in page


def test_the_device_page_shows_its_properties_read_only(bob, devices):
    device = devices["00000000-0000-4000-8000-000000000001"]
    client = logged_in(bob)
    page = client.get(f"/devices/device/{device.pk}/change/").content.decode()
    assert "Golden Retriever" in page and "iPhone15,2" in page and "Europe/Paris" in page
    assert 'name="user_id"' not in page
    response = client.post(f"/devices/device/{device.pk}/change/", {"user_id": "hijack"})
    assert response.status_code == 403
    assert Device.objects.get(pk=device.pk).user_id == "andrew@contosoltd.com"


def test_a_developer_does_not_see_devices(carol, devices):
    assert logged_in(carol).get("/devices/device/").status_code == 403


def test_the_landing_page_counts_devices(alice, devices):
    counts = {c["label"]: c["count"] for c in logged_in(alice).get("/").context["dashboard_counts"]}
    assert counts["Devices"] == 2


def test_pruning_deletes_only_devices_retired_long_enough(devices):
    old, recent = Device.objects.order_by("install_id")
    Device.objects.filter(pk=old.pk).update(
        status=DeviceStatus.UNREGISTERED, retired_at=timezone.now() - timedelta(days=40)
    )
    Device.objects.filter(pk=recent.pk).update(
        status=DeviceStatus.TOKEN_INVALID, retired_at=timezone.now() - timedelta(days=5)
    )
    output = StringIO()
    call_command("prune_devices", "--days", "30", stdout=output)
    assert "Deleted 1 device(s)" in output.getvalue()
    assert list(Device.objects.values_list("pk", flat=True)) == [recent.pk]


def test_pruning_never_touches_active_devices(devices):
    Device.objects.update(retired_at=timezone.now() - timedelta(days=400))
    call_command("prune_devices", "--days", "0")
    assert Device.objects.count() == 2


def test_pruning_needs_its_days(db):
    with pytest.raises(CommandError):
        call_command("prune_devices")
