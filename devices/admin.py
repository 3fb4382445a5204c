"""Dashboard pages for organizations, mobile apps with their credentials, and API tokens."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from devices import (
    encryption,
    forms,
    membership,
    provider_health,
    sending,
    services,
    setup_status,
    snippets,
    tasks,
)
from devices.models import (
    ApiToken,
    ApnsCredential,
    Device,
    FcmCredential,
    MobileApp,
    Organization,
    ProviderCredential,
    ProviderHealth,
    TokenKind,
    WnsCredential,
)
from devices.providers import registry
from pushcenter.admin_deletion import CountedDeletion
from pushcenter.page_extensions import Extensible


class MembersField:
    """A ModelAdmin mixin for a `members` field: choices are the people one manages.

    The members one may not manage stay listed (one may remove them from one's own
    organization or app) but cannot be added by anyone outside their reach.
    """

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs: object):
        form = super().get_form(request, obj, change=change, **kwargs)
        field = form.base_fields.get("members")
        if field is not None:
            people = membership.people_of(request.user)
            if obj is not None:
                people = people | obj.members.all()
            field.queryset = people.distinct().order_by("username")
        return form


@admin.register(Organization)
class OrganizationAdmin(MembersField, CountedDeletion, admin.ModelAdmin):
    list_display = ["display_name", "name", "organization_id", "created_at"]
    search_fields = ["name", "display_name"]
    readonly_fields = ["organization_id"]
    fields = ["name", "display_name", "organization_id", "members"]
    filter_horizontal = ["members"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        return (
            super()
            .get_queryset(request)
            .filter(pk__in=membership.organizations_of(request.user).values("pk"))
        )

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if not change and not membership.sees_every_app(request.user):
            # Whoever makes an organization works on it; otherwise they could not see it.
            form.instance.members.add(request.user)


class CredentialInline(admin.StackedInline):
    """A provider credential on its app's page: secrets write-only, validation shown."""

    max_num = 1
    extra = 1
    can_delete = True
    readonly_fields = ["secret_status", "validation", "sending"]
    platform = ""

    @admin.display(description="Sending")
    def sending(self, credential: ProviderCredential) -> str:
        """Say whether the provider sends, or is held or paused, why, and how to resume it."""
        health = ProviderHealth.objects.filter(app_id=credential.app_id, platform=self.platform)
        health = health.first() if credential.pk else None
        if health is None or not (health.suspended_at or health.paused_until):
            return "sending"
        if health.suspended_at:
            state = f"held since {health.suspended_at:%Y-%m-%d %H:%M} UTC: {health.suspect_reason}"
        else:
            state = (
                f"paused until {health.paused_until:%Y-%m-%d %H:%M} UTC after "
                f"{health.failures} failed batches in a row: {health.last_error}"
            )
        return format_html(
            '{} <button type="submit" form="trust-{}-form" class="button">{}</button>',
            state,
            self.platform,
            "The credential is right: send now",
        )

    @admin.display(description="Secret")
    def secret_status(self, credential: ProviderCredential) -> str:
        if credential.pk and credential.secret_set_at:
            return f"set on {credential.secret_set_at:%Y-%m-%d %H:%M} UTC"
        return "not set"

    @admin.display(description="Credential validation")
    def validation(self, credential: ProviderCredential) -> str:
        if not credential.pk:
            return "unchecked"
        text = credential.get_validation_status_display().lower()
        if credential.validated_at:
            text += f" ({credential.validated_at:%Y-%m-%d %H:%M} UTC)"
        if credential.validation_message:
            text += f": {credential.validation_message}"
        return text


class ApnsCredentialInline(CredentialInline):
    model = ApnsCredential
    platform = "ios"
    form = forms.ApnsCredentialForm
    fieldsets = [
        (None, {"fields": ["auth_method", "bundle_id", "environment"]}),
        ("Token authentication", {"fields": ["key_id", "team_id", "signing_key"]}),
        (
            "Certificate authentication",
            {"fields": ["certificate", "certificate_password", "certificate_expires"]},
        ),
        ("Status", {"fields": ["secret_status", "validation", "sending"]}),
    ]
    readonly_fields = [*CredentialInline.readonly_fields, "certificate_expires"]

    @admin.display(description="Certificate expires")
    def certificate_expires(self, credential: ApnsCredential) -> str:
        expires = credential.certificate_expires_at
        return f"{expires:%Y-%m-%d}" if expires else "-"


class FcmCredentialInline(CredentialInline):
    model = FcmCredential
    platform = "android"
    form = forms.FcmCredentialForm
    fields = [
        "service_account",
        "project_id",
        "client_email",
        "secret_status",
        "validation",
        "sending",
    ]
    readonly_fields = [*CredentialInline.readonly_fields, "project_id", "client_email"]


class WnsCredentialInline(CredentialInline):
    model = WnsCredential
    platform = "windows"
    form = forms.WnsCredentialForm
    fieldsets = [
        (None, {"fields": ["auth_flow", "package_family_name", "client_secret"]}),
        ("Azure AD app registration", {"fields": ["tenant_id", "client_id", "object_id"]}),
        ("Package SID (Partner Center / Store)", {"fields": ["package_sid"]}),
        ("Status", {"fields": ["secret_status", "validation", "sending"]}),
    ]


class AppSettingsInline(admin.StackedInline):
    """Another app's settings for one mobile app (one row at most), shown on the app's page.

    The apps above devices subclass it and add their inline with
    `pushcenter.page_extensions.add_inline(MobileApp, …)`, so devices imports none of them.
    The settings are part of the app: whoever may see or change the app may see or change
    them, and they go with it.
    An app without a row follows the settings' defaults, so the row is made only when changed.
    """

    extra = 1
    max_num = 1
    can_delete = False

    def _app_admin(self) -> admin.ModelAdmin:
        return self.admin_site._registry[self.parent_model]

    def has_view_permission(self, request: HttpRequest, obj: MobileApp | None = None) -> bool:
        return self._app_admin().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: MobileApp | None = None) -> bool:
        return self.has_change_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: MobileApp | None = None) -> bool:
        app_admin = self._app_admin()
        if obj is None:
            return app_admin.has_add_permission(request)
        return app_admin.has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: MobileApp | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: MobileApp | None = None) -> list:
        fields = list(super().get_readonly_fields(request, obj))
        if not self.has_change_permission(request, obj):
            # An app without a row shows its defaults in an unsaved form, which Django leaves
            # editable; whoever only reads the app reads them as text, as a saved row reads.
            fields += flatten_fieldsets(self.get_fieldsets(request, obj))
        return fields


# The platform of each credential model, for the checks queued when one is saved.
CREDENTIAL_PLATFORMS = {ApnsCredential: "ios", FcmCredential: "android", WnsCredential: "windows"}
# Where the app's page is told a client key was just made, so its snippets can carry it.
NEW_CLIENT_KEY = "new-client-key-of-app-{}"


@admin.register(MobileApp)
class MobileAppAdmin(Extensible, MembersField, CountedDeletion, admin.ModelAdmin):
    list_display = ["display_name", "owner_and_name", "platform_list", "application_id", "setup"]
    change_form_template = "admin/devices/mobileapp/change_form.html"
    list_filter = [("organization", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "display_name", "organization__name"]
    readonly_fields = ["organization_id", "application_id_shown", "public_endpoint"]
    filter_horizontal = ["members"]
    form = forms.MobileAppForm
    inlines = [ApnsCredentialInline, FcmCredentialInline, WnsCredentialInline]
    fieldsets = [
        (None, {"fields": ["organization", "name", "display_name", "description"]}),
        (
            "API identity",
            {"fields": ["public_endpoint", "organization_id", "application_id_shown"]},
        ),
        (
            "Stores and links",
            {
                "description": "Notification templates link to these pages; a link to the "
                "app's own scheme is allowed in notifications.",
                "fields": [
                    "latest_version",
                    "app_store_id",
                    "play_package_name",
                    "store_product_id",
                    "deep_link_scheme",
                ],
            },
        ),
        ("Custom properties", {"fields": ["custom_property_types"]}),
        ("Team", {"fields": ["members"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[MobileApp]:
        apps = (
            super()
            .get_queryset(request)
            .select_related("organization", "apns_credential", "fcm_credential", "wns_credential")
        )
        return apps.filter(pk__in=membership.apps_of(request.user).values("pk"))

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: object):
        if db_field.name == "organization":
            # An app is added only to an organization one is a member of.
            kwargs["queryset"] = membership.organizations_of(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: MobileApp | None = None) -> list:
        fields = list(super().get_readonly_fields(request, obj))
        mine = membership.organizations_of(request.user)
        if obj is not None and not mine.filter(pk=obj.organization_id).exists():
            # Given this app alone: it stays in its organization.
            fields.append("organization")
        return fields

    @method_decorator(sensitive_post_parameters())
    def changeform_view(
        self, request: HttpRequest, *args: object, **kwargs: object
    ) -> HttpResponse:
        return super().changeform_view(request, *args, **kwargs)

    def get_urls(self) -> list:
        validate = self.admin_site.admin_view(require_POST(self.validate_view))
        trust = self.admin_site.admin_view(require_POST(self.trust_view))
        setup = self.admin_site.admin_view(self.setup_status_view)
        return [
            path("<int:pk>/validate/", validate, name="devices_mobileapp_validate"),
            path("<int:pk>/setup-status/", setup, name="devices_mobileapp_setup_status"),
            path("<int:pk>/trust/<str:platform>/", trust, name="devices_mobileapp_trust"),
            *super().get_urls(),
        ]

    def validate_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Prove each credential against its provider and show what each answered."""
        app = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, app):
            raise PermissionDenied
        for result in sending.validate_credentials(app):
            level = messages.SUCCESS if result.valid else messages.ERROR
            verdict = "valid" if result.valid else "refused"
            self.message_user(request, f"{result.provider}: {verdict}. {result.message}", level)
        return HttpResponseRedirect(reverse("admin:devices_mobileapp_change", args=[app.pk]))

    def trust_view(self, request: HttpRequest, pk: int, platform: str) -> HttpResponse:
        """Let a held or paused provider send now: an administrator vouches for its credential.

        For a day its answers retire devices again, even when most of a batch says so.
        """
        app = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, app) or platform not in app.platforms():
            raise PermissionDenied
        provider_health.resume(app, platform, trusted=True)
        name = registry.NAMES[platform]
        self.message_user(
            request,
            f"{name} sends again; for the next 24 hours the devices it says are gone are retired.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:devices_mobileapp_change", args=[app.pk]))

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        """Save the inlines; a credential saved new or changed is proved in the background."""
        super().save_formset(request, form, formset, change)
        platform = CREDENTIAL_PLATFORMS.get(formset.model)
        if platform is None:
            return
        for credential in [*formset.new_objects, *(obj for obj, _ in formset.changed_objects)]:
            tasks.queue_check(credential, platform)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict,
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: MobileApp | None = None,
    ):
        if obj is not None and obj.pk:
            context.update(self._setup_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _setup_context(self, request: HttpRequest, app: MobileApp) -> dict:
        """The checklist and the snippets; a client key made just before fills them once."""
        session = getattr(request, "session", {})
        new_key = session.pop(NEW_CLIENT_KEY.format(app.pk), None)
        client_key = encryption.decrypt(new_key) if new_key else None
        return {
            "setup": setup_status.status(app),
            "setup_url": reverse("admin:devices_mobileapp_setup_status", args=[app.pk]),
            "snippet_languages": snippets.languages(app, client_key),
            "snippet_client_key": client_key,
            "make_client_key_url": setup_status.make_client_key_url(app),
            "public_url": settings.PUBLIC_URL,
        }

    def setup_status_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        """The checklist now, for the page's poll: counts, and the panel rendered anew."""
        app = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_view_permission(request, app):
            raise PermissionDenied
        found = setup_status.status(app)
        html = render_to_string(
            "admin/devices/mobileapp/setup_status.html", {"setup": found}, request=request
        )
        return JsonResponse(
            {
                "ready": found.ready,
                "checking": found.checking,
                "summary": found.summary(),
                "html": html,
            }
        )

    @admin.display(description="Setup")
    def setup(self, app: MobileApp) -> str:
        return setup_status.status(app).summary()

    @admin.display(description="Public endpoint")
    def public_endpoint(self, app: MobileApp) -> str:
        return settings.PUBLIC_URL

    @admin.display(description="owner_name/app_name", ordering="name")
    def owner_and_name(self, app: MobileApp) -> str:
        return str(app)

    @admin.display(description="Platforms")
    def platform_list(self, app: MobileApp) -> str:
        return ", ".join(app.platforms()) or "-"

    @admin.display(description="Organization ID")
    def organization_id(self, app: MobileApp) -> str:
        return str(app.organization.organization_id) if app.pk else "given when saved"

    @admin.display(description="Application ID")
    def application_id_shown(self, app: MobileApp) -> str:
        return str(app.application_id) if app.pk else "given when saved"


KINDS_EXPLAINED = (
    "<strong>Client key</strong>: ships inside your iOS, Android or Windows app. It can only "
    "register, update and unregister its own device, set that device's user and report "
    "launches, so anyone who unpacks the app gains nothing more.<br>"
    "<strong>Server token</strong>: does everything (sends, lists devices, manages audiences, "
    "posts events). Keep it on your servers; it must never ship inside an app."
)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens: shown once at creation, then only their prefix; revoked, never edited."""

    list_display = ["name", "app", "kind", "masked", "created_at", "last_used_at", "status"]
    list_filter = [
        ("app", admin.RelatedOnlyFieldListFilter),
        "kind",
        ("revoked_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["name", "prefix", "app__name"]
    actions = ["revoke"]
    radio_fields = {"kind": admin.VERTICAL}

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        tokens = super().get_queryset(request).select_related("app__organization")
        return tokens.filter(app__in=membership.apps_of(request.user))

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: object):
        if db_field.name == "app":
            kwargs["queryset"] = membership.apps_of(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        if obj is None:
            return ["app", "kind", "name"]
        return [
            "app",
            "kind",
            "name",
            "masked",
            "created_by",
            "created_at",
            "last_used_at",
            "status",
        ]

    def get_fieldsets(self, request: HttpRequest, obj: ApiToken | None = None) -> list:
        if obj is None:
            return [(None, {"fields": self.get_fields(request), "description": KINDS_EXPLAINED})]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        if obj is None:
            return []
        return ["app", "kind", "masked", "created_by", "created_at", "last_used_at", "status"]

    def formfield_for_choice_field(self, db_field, request: HttpRequest, **kwargs: object):
        if db_field.name == "kind":
            # No kind is ticked in advance: whoever makes a token decides where it will live.
            kwargs["initial"] = None
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    @admin.display(description="Token")
    def masked(self, token: ApiToken) -> str:
        return f"{token.prefix}…"

    @admin.display(description="Status")
    def status(self, token: ApiToken) -> str:
        return "active" if token.is_active else f"revoked {token.revoked_at:%Y-%m-%d %H:%M}"

    def save_model(self, request: HttpRequest, obj: ApiToken, form: object, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        token, plaintext = services.issue_api_token(
            obj.app, obj.name, created_by=request.user, kind=obj.kind
        )
        obj.pk, obj.prefix, obj.created_at = token.pk, token.prefix, token.created_at
        # Held in the session only until the next page shows it, so a reload mints nothing;
        # encrypted, so the session store (database or cache) never holds the token itself.
        request.session[_shown_once_key(token.pk)] = encryption.encrypt(plaintext)

    def response_add(
        self, request: HttpRequest, obj: ApiToken, post_url_continue=None
    ) -> HttpResponse:
        return redirect("admin:devices_apitoken_created", obj.pk)

    def get_urls(self) -> list:
        created = self.admin_site.admin_view(self.created_view)
        return [
            path("<int:pk>/created/", created, name="devices_apitoken_created"),
            *super().get_urls(),
        ]

    def created_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Show a new token's text once; afterwards the page only says it was shown."""
        token = get_object_or_404(self.get_queryset(request), pk=pk)
        ciphertext = request.session.pop(_shown_once_key(pk), None)
        if ciphertext is None:
            self.message_user(
                request,
                f"The token {token} was shown once already; create a new one if it was not copied.",
                messages.WARNING,
            )
            return redirect("admin:devices_apitoken_changelist")
        is_client_key = token.kind == TokenKind.CLIENT
        if is_client_key:
            # The app's page puts it in its snippets once, the next time it is shown.
            request.session[NEW_CLIENT_KEY.format(token.app_id)] = ciphertext
        context = {
            **self.admin_site.each_context(request),
            "title": "API token created",
            "token": token,
            "plaintext": encryption.decrypt(ciphertext),
            "is_client_key": is_client_key,
            "public_url": settings.PUBLIC_URL,
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/devices/apitoken/created.html", context)

    @admin.action(description="Revoke selected API tokens", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = services.revoke_api_tokens(queryset)
        self.message_user(request, f"Revoked {count} API token(s).", messages.SUCCESS)


def _shown_once_key(pk: int) -> str:
    return f"new-api-token-{pk}"


@admin.register(Device)
class DeviceAdmin(Extensible, CountedDeletion, admin.ModelAdmin):
    """Devices arrive through the API; the dashboard reads them."""

    list_display = [
        "install_id",
        "app",
        "platform",
        "user_id",
        "status",
        "locale",
        "carrier_country",
        "app_version",
        "last_seen",
    ]
    list_filter = [
        ("app", admin.RelatedOnlyFieldListFilter),
        "platform",
        "status",
        ("locale", admin.AllValuesFieldListFilter),
        ("carrier_country", admin.AllValuesFieldListFilter),
        ("app_version", admin.AllValuesFieldListFilter),
    ]
    search_fields = ["user_id"]
    search_help_text = "An install id, or a user or account id (exact)."
    list_select_related = ["app__organization"]
    show_full_result_count = False
    ordering = ["-last_seen"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "app",
                    "install_id",
                    "platform",
                    "status",
                    "retired_at",
                    "first_seen",
                    "last_seen",
                ]
            },
        ),
        ("Address", {"fields": ["push_token", "channel_uri", "channel_expires_at"]}),
        (
            "Person",
            {
                "fields": [
                    "user_id",
                    "account_id",
                    "locale",
                    "time_zone",
                    "push_enabled",
                    "categories",
                ]
            },
        ),
        (
            "Properties",
            {
                "fields": [
                    "app_version",
                    "carrier_country",
                    "device_os_version",
                    "os_api_level",
                    "device_model",
                    "oem_name",
                    "screen_size",
                    "custom_property_list",
                ]
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Device]:
        return super().get_queryset(request).filter(app__in=membership.apps_of(request.user))

    def get_readonly_fields(self, request: HttpRequest, obj: Device | None = None) -> list[str]:
        return [f for _, options in self.fieldsets for f in options["fields"]]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Device | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Device | None = None) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Device], search_term: str
    ):
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(install_id=uuid.UUID(term)), False
        except ValueError:
            return queryset.filter(Q(user_id=term) | Q(account_id=term)), False

    @admin.display(description="Custom properties")
    def custom_property_list(self, device: Device) -> str:
        items = sorted(device.custom_properties.items())
        return format_html_join(mark_safe("<br>"), "{}: {}", items)  # noqa: S308 if items else "-"
