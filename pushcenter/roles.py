"""The dashboard's roles, as groups of permissions: the one place they are defined.

Migrations call `sync_roles` after creating models, so every role holds exactly what is listed
here for the models that exist.

A role says what a person may do; their memberships (devices/membership.py) say to which apps:
the organizations and apps they are given. No role sees every app.
"""

from __future__ import annotations

from django.apps.registry import Apps

MARKETER = "Marketer"
APP_ADMINISTRATOR = "App administrator"
DEVELOPER = "Developer"


def _crud(*models: str) -> list[str]:
    return [
        f"{action}_{model}" for model in models for action in ("add", "change", "delete", "view")
    ]


ROLES: dict[str, dict[str, list[str]]] = {
    # Segments, notifications, A/B tests, journeys and metrics; apps only to read; never
    # credentials or tokens.
    MARKETER: {
        "devices": ["view_organization", "view_mobileapp", "view_device"],
        "segments": _crud("segment"),
        "campaigns": _crud("notification"),
        "experiments": _crud("experiment"),
        "events": ["view_event"],
        "journeys": _crud("journey", "step"),
    },
    # Organizations, apps, their credentials, API tokens and webhooks, and the people given them.
    APP_ADMINISTRATOR: {
        "devices": [
            *_crud("organization", "mobileapp", "apnscredential", "fcmcredential", "wnscredential"),
            "add_apitoken",
            "change_apitoken",
            "view_apitoken",
            "view_device",
        ],
        "segments": ["view_segment"],
        "campaigns": ["view_notification"],
        "experiments": ["view_experiment"],
        "events": ["view_event"],
        "journeys": ["view_journey", "view_step"],
        "webhooks": [*_crud("endpoint"), "view_batch", "change_batch"],
        "auth": [*_crud("user"), "view_group"],
    },
    # Their apps to read (with each app's metrics overview, not its credentials) and their
    # API tokens and webhooks; no devices, segments or notifications.
    DEVELOPER: {
        "devices": ["view_mobileapp", "add_apitoken", "change_apitoken", "view_apitoken"],
        "webhooks": [*_crud("endpoint"), "view_batch", "change_batch"],
    },
}


def sync_roles(apps: Apps, schema_editor: object = None) -> None:
    """Create the role groups and give each exactly its listed permissions that exist."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, grants in ROLES.items():
        group, _ = group_model.objects.get_or_create(name=role)
        permissions = [
            permission
            for app_label, codenames in grants.items()
            for permission in permission_model.objects.filter(
                content_type__app_label=app_label, codename__in=codenames
            )
        ]
        group.permissions.set(permissions)
