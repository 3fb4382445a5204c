"""The device-registration API: upserts, changes, user mapping, listing, and the D365 door."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from devices.models import Device, DeviceStatus, MobileApp

APNS_TOKEN = "a" * 64
FCM_TOKEN = "fcm-registration-token:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx"
CHANNEL = "https://db5.notify.windows.com/?token=AwYAAABx2Jz"
INSTALL = "00000000-0000-4000-8000-000000000001"

SEED_BODY = {
    "platform": "ios",
    "push_token": APNS_TOKEN,
    "user_id": "andrew@contosoltd.com",
    "locale": "en-US",
    "time_zone": "Europe/Paris",
    "properties": {
        "appVersion": "2.10.1",
        "carrierCountry": "US",
        "deviceOsVersion": "17.2",
        "osApiLevel": 34,
        "model": "iPhone15,2",
        "oemName": "Apple",
        "screenSize": "1170x2532",
    },
    "custom_properties": {"dog-lover": True, "dog-breed": "Golden Retriever"},
    "push_enabled": True,
    "categories": ["offers", "news"],
}


def api(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_TOKEN=token)
    return client


def device_url(app: MobileApp, install: str = INSTALL) -> str:
    return f"/api/v1/apps/{app.application_id}/devices/{install}"


def put(token: str, app: MobileApp, body: dict, install: str = INSTALL):
    return api(token).put(device_url(app, install), body, format="json")


# Registration


def test_put_creates_then_updates_a_device(retail, retail_token):
    created = put(retail_token, retail, SEED_BODY)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["install_id"] == INSTALL and body["status"] == "active"
    assert body["properties"]["appVersion"] == "2.10.1" and body["categories"] == ["news", "offers"]
    updated = put(retail_token, retail, {**SEED_BODY, "locale": "fr-FR"})
    assert updated.status_code == 200
    assert updated.json()["first_seen"] == body["first_seen"]
    device = Device.objects.get()
    assert (device.locale, device.language, device.app_version_key) == (
        "fr-FR",
        "fr",
        "000002.000010.000001",
    )


def test_put_replaces_what_it_omits(retail, retail_token):
    put(retail_token, retail, SEED_BODY)
    response = put(retail_token, retail, {"platform": "ios", "push_token": APNS_TOKEN})
    body = response.json()
    assert body["user_id"] is None and body["custom_properties"] == {} and body["categories"] == []


def test_a_reregistration_reactivates_an_unregistered_device(retail, retail_token):
    put(retail_token, retail, SEED_BODY)
    api(retail_token).delete(device_url(retail))
    assert put(retail_token, retail, SEED_BODY).json()["status"] == "active"
    assert Device.objects.get().retired_at is None


def test_a_token_that_moves_to_a_new_install_leaves_the_old_one(retail, retail_token):
    put(retail_token, retail, SEED_BODY, install=INSTALL)
    other = "00000000-0000-4000-8000-000000000002"
    put(retail_token, retail, SEED_BODY, install=other)
    old = Device.objects.get(install_id=INSTALL)
    assert old.push_token is None and old.status == DeviceStatus.UNREGISTERED
    assert Device.objects.get(install_id=other).push_token == APNS_TOKEN


def test_android_and_windows_devices_register(retail, news, retail_token, news_token):
    android = put(retail_token, retail, {"platform": "android", "push_token": FCM_TOKEN})
    assert android.status_code == 201
    windows = put(news_token, news, {"platform": "windows", "channel_uri": CHANNEL})
    assert windows.status_code == 201
    assert windows.json()["channel_expires_at"] is not None


def test_custom_property_types_are_declared_on_first_sight_and_then_enforced(retail, retail_token):
    put(retail_token, retail, SEED_BODY)
    retail.refresh_from_db()
    assert retail.custom_property_types == {"dog-lover": "boolean", "dog-breed": "string"}
    response = put(
        retail_token,
        retail,
        {**SEED_BODY, "custom_properties": {"dog-lover": "yes"}},
        install="00000000-0000-4000-8000-000000000003",
    )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "custom_properties.dog-lover"
    assert "declares it boolean" in response.json()["error"]["message"]


def test_a_declared_datetime_property_is_stored_in_utc(retail, retail_token):
    retail.custom_property_types = {"signed-up": "datetime"}
    retail.save()
    body = {**SEED_BODY, "custom_properties": {"signed-up": "2026-01-31T10:00:00+01:00"}}
    assert put(retail_token, retail, body).json()["custom_properties"] == {
        "signed-up": "2026-01-31T09:00:00Z"
    }


# Changing a device


def test_patch_merges_properties_and_removes_a_custom_property_with_null(retail, retail_token):
    put(retail_token, retail, SEED_BODY)
    response = api(retail_token).patch(
        device_url(retail),
        {
            "properties": {"appVersion": "3.0"},
            "custom_properties": {"dog-breed": None},
            "push_enabled": False,
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["properties"]["appVersion"] == "3.0" and body["properties"]["model"] == "iPhone15,2"
    assert body["custom_properties"] == {"dog-lover": True}
    assert body["push_enabled"] is False and body["user_id"] == "andrew@contosoltd.com"


def test_patch_of_an_unknown_device_is_404(retail, retail_token):
    response = api(retail_token).patch(device_url(retail), {"push_enabled": False}, format="json")
    assert response.status_code == 404


def test_the_user_door_sets_and_clears_the_user_id(retail, retail_token):
    put(retail_token, retail, SEED_BODY)
    url = device_url(retail) + "/user"
    assert (
        api(retail_token).put(url, {"user_id": "crm-42"}, format="json").json()["user_id"]
        == "crm-42"
    )
    assert api(retail_token).put(url, {"user_id": None}, format="json").json()["user_id"] is None
    assert Device.objects.get().user_id is None


def test_delete_unregisters_and_keeps_the_row(retail, retail_token):
    put(retail_token, retail, SEED_BODY)
    assert api(retail_token).delete(device_url(retail)).status_code == 204
    device = Device.objects.get()
    assert device.status == DeviceStatus.UNREGISTERED and device.retired_at is not None
    assert api(retail_token).get(device_url(retail)).json()["status"] == "unregistered"


# Listing


def test_the_list_filters_and_pages_with_a_cursor(retail, retail_token):
    for n in range(5):
        install = f"00000000-0000-4000-8000-00000000001{n}"
        platform = (
            {"platform": "android", "push_token": FCM_TOKEN + str(n)}
            if n % 2
            else {"platform": "ios", "push_token": f"{n}" * 64}
        )
        put(
            retail_token,
            retail,
            {**platform, "locale": "de-DE" if n == 4 else "en-US"},
            install=install,
        )
    url = f"/api/v1/apps/{retail.application_id}/devices"
    page = api(retail_token).get(url, {"platform": "ios", "limit": 2}).json()
    assert [d["platform"] for d in page["results"]] == ["ios", "ios"]
    rest = api(retail_token).get(page["next"]).json()
    assert len(rest["results"]) == 1 and rest["next"] is None
    assert len(api(retail_token).get(url, {"locale": "de-de"}).json()["results"]) == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"platform": "blackberry"}, "platform"),
        ({"status": "gone"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_the_list_names_a_bad_filter(retail, retail_token, query, field):
    response = api(retail_token).get(f"/api/v1/apps/{retail.application_id}/devices", query)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


# Isolation between apps


def test_a_token_can_neither_read_nor_write_another_apps_devices(
    retail, news, retail_token, news_token
):
    put(retail_token, retail, SEED_BODY)
    other = api(news_token)
    assert other.get(device_url(retail)).status_code == 404
    assert other.put(device_url(retail), SEED_BODY, format="json").status_code == 404
    assert (
        other.patch(device_url(retail), {"push_enabled": False}, format="json").status_code == 404
    )
    assert other.delete(device_url(retail)).status_code == 404
    assert (
        other.put(device_url(retail) + "/user", {"user_id": "x"}, format="json").status_code == 404
    )
    assert other.get(f"/api/v1/apps/{retail.application_id}/devices").status_code == 404
    assert Device.objects.get().push_enabled is True and Device.objects.get().status == "active"


def test_a_device_of_one_app_is_invisible_under_anothers_install_id(
    retail, news, retail_token, news_token
):
    put(retail_token, retail, SEED_BODY)
    assert api(news_token).get(device_url(news)).status_code == 404


# The Dynamics 365 door, with the seed's bodies


def d365_url(app: MobileApp, user_id: str = "contact-1") -> str:
    org = app.organization.organization_id
    return f"/api/v1.0/orgs/{org}/pushchannel/apps/{app.application_id}/devices/{user_id}"


def test_the_seed_ios_body_registers_with_the_token_in_the_body(retail, retail_token):
    body = {"ApnsDeviceContract": {"ApnsToken": APNS_TOKEN}, "ApiToken": retail_token}
    response = APIClient().post(d365_url(retail), body, format="json")
    assert response.status_code == 201, response.json()
    device = Device.objects.get()
    assert (device.platform, device.push_token, device.user_id) == ("ios", APNS_TOKEN, "contact-1")


def test_the_seed_android_body_registers(retail, retail_token):
    body = {"FcmDeviceContract": {"FcmToken": FCM_TOKEN}, "ApiToken": retail_token}
    assert APIClient().post(d365_url(retail), body, format="json").status_code == 201
    assert Device.objects.get().platform == "android"


def test_the_windows_contract_registers_a_channel(news, news_token):
    body = {"WnsDeviceContract": {"ChannelUri": CHANNEL}, "ApiToken": news_token}
    assert APIClient().post(d365_url(news), body, format="json").status_code == 201
    assert Device.objects.get().channel_uri == CHANNEL


def test_registering_the_same_token_again_maps_the_same_device_to_a_new_user(retail, retail_token):
    body = {"ApnsDeviceContract": {"ApnsToken": APNS_TOKEN}, "ApiToken": retail_token}
    APIClient().post(d365_url(retail, "contact-1"), body, format="json")
    again = APIClient().post(d365_url(retail, "contact-2"), body, format="json")
    assert again.status_code == 200
    assert Device.objects.get().user_id == "contact-2"


def test_the_d365_door_keeps_a_native_install(retail, retail_token):
    put(retail_token, retail, SEED_BODY)
    body = {"ApnsDeviceContract": {"ApnsToken": APNS_TOKEN}, "ApiToken": retail_token}
    APIClient().post(d365_url(retail, "contact-9"), body, format="json")
    device = Device.objects.get()
    assert (str(device.install_id), device.user_id, device.locale) == (
        INSTALL,
        "contact-9",
        "en-US",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "ApnsDeviceContract"),
        ({"ApnsDeviceContract": {"ApnsToken": "xyz"}}, "ApnsDeviceContract.ApnsToken"),
        ({"FcmDeviceContract": {"FcmToken": "short"}}, "FcmDeviceContract.FcmToken"),
        (
            {
                "ApnsDeviceContract": {"ApnsToken": APNS_TOKEN},
                "FcmDeviceContract": {"FcmToken": FCM_TOKEN},
            },
            "ApnsDeviceContract",
        ),
        ({"ApnsDeviceContract": {"Token": APNS_TOKEN}}, "ApnsDeviceContract.Token"),
        ({"ApnsDeviceContract": {"ApnsToken": APNS_TOKEN}, "Extra": 1}, "Extra"),
    ],
)
def test_the_d365_door_names_what_is_wrong(retail, retail_token, body, field):
    response = APIClient().post(d365_url(retail), {**body, "ApiToken": retail_token}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert not Device.objects.exists()


def test_the_d365_door_refuses_another_apps_ids(retail, news, retail_token):
    body = {"ApnsDeviceContract": {"ApnsToken": APNS_TOKEN}, "ApiToken": retail_token}
    assert APIClient().post(d365_url(news), body, format="json").status_code == 404
    wrong_org = f"/api/v1.0/orgs/{uuid.uuid4()}/pushchannel/apps/{retail.application_id}/devices/u"
    assert APIClient().post(wrong_org, body, format="json").status_code == 404
    assert not Device.objects.exists()


def test_the_d365_door_without_a_token_is_401(retail):
    response = APIClient().post(
        d365_url(retail), {"ApnsDeviceContract": {"ApnsToken": APNS_TOKEN}}, format="json"
    )
    assert response.status_code == 401


def test_a_type_declared_meanwhile_elsewhere_is_still_enforced(retail, retail_token):
    api(retail_token).get(f"/api/v1/apps/{retail.application_id}")  # the token's app is cached
    MobileApp.objects.filter(pk=retail.pk).update(custom_property_types={"dog-lover": "boolean"})
    response = put(retail_token, retail, {**SEED_BODY, "custom_properties": {"dog-lover": "yes"}})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "custom_properties.dog-lover"
    assert not Device.objects.exists()
