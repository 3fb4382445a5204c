"""The notification pages: pick a template, compose with a live preview, schedule, cancel, copy.

Also the app's sending rules, an inline of the app's page.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from campaigns import (
    extensions,
    notification_templates,
    preview,
    progress,
    read_only_words,
    review,
    services,
    trial_sends,
)
from campaigns.forms import CONVERSION_FIELDS, TRANSLATED_FIELDS, NotificationForm
from campaigns.models import Notification, Purpose, SendingRules, Status
from devices import membership, sending
from devices.admin import AppSettingsInline
from devices.models import Device, DeviceStatus, MobileApp
from devices.providers.base import Outcome, ProviderError, Result
from pushcenter.admin_deletion import CountedDeletion
from pushcenter.page_extensions import Action, Extensible
from segments.admin import Use
from segments.models import Segment

SCHEDULE_BUTTON = "_schedule"


def _device_by_install_id(app: MobileApp, install_id: str) -> Device | None:
    try:
        return Device.objects.filter(app=app, install_id=uuid.UUID(install_id.strip())).first()
    except ValueError:
        return None


def _why(error: Exception) -> str:
    """Say why a test send did not go: a rule it broke, or the provider client's failure."""
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return getattr(error, "message", None) or str(error)


class ViewFilter(admin.SimpleListFilter):
    """The notifications list's views: by where each notification is in its life."""

    title = "view"
    parameter_name = "view"
    VIEWS = {
        "scheduled": ("Scheduled", [Status.SCHEDULED]),
        "in_progress": ("In progress", [Status.SENDING]),
        "completed": ("Completed", [Status.COMPLETED, Status.EXPIRED]),
        "drafts": ("Drafts", [Status.DRAFT]),
        "cancelled": ("Cancelled", [Status.CANCELLED]),
    }

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [(key, label) for key, (label, _) in self.VIEWS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in self.VIEWS:
            return queryset.filter(status__in=self.VIEWS[self.value()][1])
        return queryset


def part_of(notification: Notification | None) -> extensions.PartOf | None:
    """Name what a notification another app owns belongs to, with a link and what it sets."""
    if notification is None or notification.purpose == Purpose.CAMPAIGN:
        return None
    return extensions.part_of(notification)


def _author_as_text(field: str) -> str:
    return "author_name" if field == "author" else field


@admin.register(Notification)
class NotificationAdmin(Extensible, CountedDeletion, admin.ModelAdmin):
    form = NotificationForm
    change_form_template = "admin/campaigns/notification/change_form.html"
    list_display = ["name", "app", "status", "sends", "updated_at"]
    added_columns_before = "updated_at"
    list_filter = [ViewFilter, "purpose", "template", ("app", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name"]
    readonly_fields = [
        "status",
        "delivery_progress",
        "author",
        "author_name",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["app", "template", "name", "kind", "platforms", "status"]}),
        (
            "Customer group",
            {
                "fields": [
                    "target_kind",
                    "segments",
                    "install_ids",
                    "user_ids",
                    "account_ids",
                    "category",
                    "filter_languages",
                    "filter_time_zones",
                ]
            },
        ),
        ("Schedule", {"fields": ["schedule_kind", "send_at", "local_send_at"]}),
        ("Expiry", {"fields": ["never_expires", "expires_at"]}),
        ("Content", {"fields": ["default_language", "languages"]}),
        (
            "Options",
            {
                "fields": [
                    "image_url",
                    "on_click",
                    "url",
                    "ios_url",
                    "android_url",
                    "sound",
                    "badge",
                    "custom_data",
                    "track_launches",
                    "collapse_id",
                    "priority",
                ]
            },
        ),
        (
            "Conversion goal",
            {
                "description": "A recipient converts on their first such app event within "
                "the window; the metrics pages count conversions and sum the value.",
                "fields": CONVERSION_FIELDS,
            },
        ),
        (
            "iOS",
            {
                "classes": ["ios-options"],
                "fields": ["thread_id", "ios_category", "interruption_level", "relevance_score"],
            },
        ),
        (
            "Android",
            {
                "classes": ["android-options"],
                "fields": ["android_channel", "android_click_action", "android_tag"],
            },
        ),
        (
            "Windows",
            {
                "classes": ["windows-options"],
                "fields": [
                    "badge_glyph",
                    "activation_type",
                    "launch",
                    "duration",
                    "scenario",
                    "base_uri",
                    "add_image_query",
                    "windows_image",
                    "audio",
                    "audio_loop",
                    "audio_silent",
                    "inputs",
                    "actions",
                    "tile_bindings",
                ],
            },
        ),
        ("Delivery", {"fields": ["delivery_progress"]}),
        ("History", {"fields": ["author", "created_at", "updated_at"]}),
    ]

    def get_list_display(self, request: HttpRequest) -> list:
        """The list's columns; the app's only for a user of several (a laptop has no room)."""
        shown = super().get_list_display(request)
        if membership.apps_of(request.user)[:2].count() < 2:
            shown = [column for column in shown if column != "app"]
        return shown

    @admin.display(description="Sends")
    def sends(self, obj: Notification) -> str:
        return services.send_time_label(obj)

    def get_fieldsets(self, request: HttpRequest, obj: Notification | None = None):
        # The author links to their page (Django's way for a read-only user field) only for
        # whoever may open it; anyone else reads the name.
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not obj.is_editable:
            # A record reads in words: "iOS, Android", not ["ios", "android"].
            fieldsets = _renamed(fieldsets, lambda name: read_only_words.SHOWN_AS.get(name, name))
        if obj is None or self._may_open_author(request, obj):
            return fieldsets
        return _renamed(fieldsets, _author_as_text)

    def _may_open_author(self, request: HttpRequest, obj: Notification) -> bool:
        author = obj.author
        people = self.admin_site._registry.get(type(author)) if author else None
        return bool(
            people
            and people.has_view_or_change_permission(request, author)
            and people.get_queryset(request).filter(pk=author.pk).exists()
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Notification | None = None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not obj.is_editable:
            fields += list(read_only_words.SHOWN_AS.values())
        return fields

    # The read-only page's words for lists and structures (SHOWN_AS names them).
    platforms_in_words = read_only_words.platforms
    install_ids_in_words = read_only_words.install_ids
    user_ids_in_words = read_only_words.user_ids
    account_ids_in_words = read_only_words.account_ids
    filter_languages_in_words = read_only_words.filter_languages
    filter_time_zones_in_words = read_only_words.filter_time_zones
    custom_data_in_words = read_only_words.custom_data
    inputs_in_words = read_only_words.inputs
    actions_in_words = read_only_words.actions
    tile_bindings_in_words = read_only_words.tile_bindings

    @admin.display(description="Author")
    def author_name(self, obj: Notification) -> str:
        return obj.author.get_username() if obj.author else "-"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        apps = self._apps(request)
        notifications = super().get_queryset(request).filter(app__in=apps)
        return notifications.select_related("app__organization")

    def get_form(self, request: HttpRequest, obj: Notification | None = None, **kwargs: object):
        # The per-language texts are in the form but laid out by the template, not a fieldset.
        shown = flatten_fieldsets(self.get_fieldsets(request, obj))
        kwargs["fields"] = [*shown, *TRANSLATED_FIELDS, "revert_languages"]
        return super().get_form(request, obj, **kwargs)

    @admin.display(description="Deliveries")
    def delivery_progress(self, obj: Notification) -> str:
        """Count the deliveries by status; the page refreshes the count while it sends."""
        if not obj.pk:
            return "None yet: deliveries are made when the send starts."
        now = progress.report(obj)
        url = reverse("admin:campaigns_progress", args=[obj.pk])
        return format_html(
            '<span data-progress-url="{}" data-live="{}">{}</span>'
            '<span class="progress-paused">{}</span><br><span class="progress-retries">{}</span>',
            url,
            "true" if now["live"] else "false",
            now["text"],
            " ".join(now["paused"]),
            now["retries"],
        )

    @admin.display(description="Notification never expires", boolean=True)
    def never_expires(self, obj: Notification) -> bool:
        return obj.expires_at is None

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: object):
        if db_field.name == "app":
            kwargs["queryset"] = self._apps(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs: object):
        if db_field.name == "segments":
            kwargs["queryset"] = Segment.objects.filter(app__in=self._apps(request))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        editable = obj is None or obj.is_editable
        return editable and super().has_change_permission(request, obj)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        initial = super().get_changeform_initial_data(request)
        app = self._apps(request).filter(pk=request.GET.get("app") or 0).first()
        template = notification_templates.find(request.GET.get("template", ""), app)
        if template:
            initial.update(preview.template_initial(template, app))
        return initial

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        if request.method == "GET" and not request.GET.get("template"):
            return self.template_picker(request)
        return super().add_view(request, form_url, extra_context)

    def template_picker(self, request: HttpRequest) -> TemplateResponse:
        """Show the templates to start from, for the chosen app."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        apps = self._apps(request)
        app = apps.filter(pk=request.GET.get("app") or 0).first() or apps.first()
        context = {
            **self.admin_site.each_context(request),
            "title": "New notification",
            "opts": self.model._meta,
            "apps": apps,
            "app": app,
            "templates": [
                (template, notification_templates.unavailable(template, app))
                for template in notification_templates.catalogue(app)
            ],
        }
        return TemplateResponse(request, "admin/campaigns/notification/pick_template.html", context)

    def save_model(
        self, request: HttpRequest, obj: Notification, form: NotificationForm, change: bool
    ) -> None:
        if not change:
            obj.author = request.user
        # A notification another app owns is sent by that app, never alone; one of campaigns'
        # own is queued only from the review the marketer confirmed (campaigns/review.py).
        schedule = review.confirmed(request.POST) and obj.purpose == Purpose.CAMPAIGN
        services.save(obj, schedule=schedule)
        if SCHEDULE_BUTTON in request.POST and not schedule:
            self.message_user(
                request,
                "Saved as a draft, not sent: a send is queued only once you confirm its review.",
                messages.WARNING,
            )
        for warning in form.warnings:
            self.message_user(request, warning, messages.WARNING)

    def response_add(self, request: HttpRequest, obj: Notification, *args) -> HttpResponse:
        return self._after_confirm(request, obj) or super().response_add(request, obj, *args)

    def response_change(self, request: HttpRequest, obj: Notification) -> HttpResponse:
        confirmed = self._after_confirm(request, obj)
        if confirmed:
            return confirmed
        # A saved notification another app owns goes back to what it belongs to.
        owner = part_of(obj)
        if owner and "_continue" not in request.POST:
            self.message_user(request, f"Saved {obj}.", messages.SUCCESS)
            return HttpResponseRedirect(owner.url)
        return super().response_change(request, obj)

    def _after_confirm(self, request: HttpRequest, obj: Notification) -> HttpResponse | None:
        """After a confirmed send, show the notification's page, where its progress shows."""
        if obj.status != Status.SCHEDULED or not review.confirmed(request.POST):
            return None
        what = "is being sent" if obj.schedule_kind == "now" else "is scheduled"
        self.message_user(request, f"{obj} {what}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:campaigns_notification_change", args=[obj.pk]))

    def render_change_form(self, request: HttpRequest, context: dict, *args, **kwargs):
        context["content_languages"] = preview.language_panels(context["adminform"].form)
        context["part_of"] = part_of(kwargs.get("obj"))
        return super().render_change_form(request, context, *args, **kwargs)

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("preview/", view(require_POST(self.preview_view)), name="campaigns_preview"),
            path("review/", view(require_POST(self.review_view)), name="campaigns_review"),
            path("<int:pk>/cancel/", view(require_POST(self.cancel_view)), name="campaigns_cancel"),
            path(
                "<int:pk>/duplicate/",
                view(require_POST(self.duplicate_view)),
                name="campaigns_duplicate",
            ),
            path("<int:pk>/test/", view(require_POST(self.test_view)), name="campaigns_test"),
            path("<int:pk>/progress/", view(self.progress_view), name="campaigns_progress"),
            path(
                "test-device/<int:device_pk>/",
                view(require_POST(self.test_device_view)),
                name="campaigns_test_device",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request: HttpRequest) -> JsonResponse:
        """Check the form as typed; show the content and payloads per platform and language."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        stored = self.get_queryset(request).filter(pk=request.POST.get("notification_id") or 0)
        instance = stored.first() or Notification()
        preview_as = request.POST.get("preview_as", "")[:256]
        if not instance.is_editable:
            return JsonResponse(preview.stored_preview(instance, preview_as))
        form = NotificationForm(request.POST, instance=instance)
        form.fields["app"].queryset = self._apps(request)
        return JsonResponse(preview.preview(form, preview_as))

    def review_view(self, request: HttpRequest) -> JsonResponse:
        """Describe what confirming the form as typed would queue, with its digest to confirm."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        stored = self.get_queryset(request).filter(pk=request.POST.get("notification_id") or 0)
        instance = stored.first() or Notification()
        if not instance.is_editable:
            raise PermissionDenied
        form = NotificationForm(request.POST, instance=instance)
        form.fields["app"].queryset = self._apps(request)
        if not form.is_valid():
            return JsonResponse({"valid": False, "errors": preview.errors(form)})
        segments = form.cleaned_data.get("segments") or []
        summary = review.summary(form.instance, segments, timezone.now())
        html = render_to_string(
            "admin/campaigns/notification/review.html", {"review": summary}, request
        )
        return JsonResponse(
            {
                "valid": True,
                "html": html,
                "digest": review.digest(request.POST),
                "confirm": _confirm_label(summary),
            }
        )

    def progress_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        """Report how the send goes, for the page to refresh while it sends."""
        return JsonResponse(progress.report(self._viewable(request, pk)))

    def cancel_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        notification = self._editable(request, pk)
        try:
            services.cancel(notification)
        except ValidationError as error:
            self.message_user(request, error.messages[0], messages.ERROR)
        else:
            self.log_change(request, notification, "Cancelled.")
            self.message_user(request, f"{notification} is cancelled; it will not be sent.")
        return HttpResponseRedirect(reverse("admin:campaigns_notification_changelist"))

    def duplicate_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        original = get_object_or_404(self.get_queryset(request), pk=pk)
        copy = services.duplicate(original, request.user)
        self.log_addition(request, copy, f"Copied from {original}.")
        self.message_user(request, f"Copied {original} as a new draft.")
        return HttpResponseRedirect(reverse("admin:campaigns_notification_change", args=[copy.pk]))

    def test_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Send the notification to one device now and show the provider's answer."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        notification = get_object_or_404(self.get_queryset(request), pk=pk)
        device = _device_by_install_id(notification.app, request.POST.get("install_id", ""))
        if device is None:
            self.message_user(request, "No device of this app has that install ID.", messages.ERROR)
        else:
            self._report_test(request, lambda: trial_sends.send_notification(notification, device))
        return HttpResponseRedirect(reverse("admin:campaigns_notification_change", args=[pk]))

    def test_device_view(self, request: HttpRequest, device_pk: int) -> HttpResponse:
        """Send a short test message to one device now and show the provider's answer."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        device = get_object_or_404(Device.objects.filter(app__in=self._apps(request)), pk=device_pk)
        self._report_test(request, lambda: trial_sends.send_test_message(device))
        return HttpResponseRedirect(reverse("admin:devices_device_change", args=[device_pk]))

    def _report_test(self, request: HttpRequest, send: Callable[[], Result]) -> None:
        try:
            result = send()
        except (ValidationError, ProviderError, ValueError) as error:
            self.message_user(request, f"Not sent: {_why(error)}", messages.ERROR)
            return
        level = messages.SUCCESS if result.outcome == Outcome.SENT else messages.ERROR
        self.message_user(request, f"Test send: {sending.describe(result)}", level)

    def _viewable(self, request: HttpRequest, pk: int) -> Notification:
        notification = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_view_permission(request, notification):
            raise PermissionDenied
        return notification

    def _editable(self, request: HttpRequest, pk: int) -> Notification:
        notification = get_object_or_404(self.get_queryset(request), pk=pk)
        if not super().has_change_permission(request, notification):
            raise PermissionDenied
        return notification

    def _apps(self, request: HttpRequest) -> QuerySet[MobileApp]:
        return membership.apps_of(request.user)


def _renamed(fieldsets: list, rename: Callable[[str], str]) -> list:
    return [
        (title, {**options, "fields": [rename(name) for name in options["fields"]]})
        for title, options in fieldsets
    ]


def _confirm_label(summary: dict) -> str:
    devices = f"{summary['total']:,} device{'s' if summary['total'] != 1 else ''}"
    if summary["action"] == "send":
        return f"Confirm and send to {devices}"
    return f"Confirm and schedule for {devices}"


def trial_send_action(request: HttpRequest, device: Device) -> Action | None:
    """The device page's button that sends the device a short test message now.

    Whoever may make notifications may send one; a device that is not active gets nothing.
    """
    if device.status != DeviceStatus.ACTIVE or not request.user.has_perm(
        "campaigns.add_notification"
    ):
        return None
    url = reverse("admin:campaigns_test_device", args=[device.pk])
    return Action("test-device", "Send a test notification", url)


def notifications_targeting(segment: Segment, most: int) -> list[Use]:
    """The segment page's list of the notifications that target it, newest first."""
    notifications = segment.notifications.order_by("-created_at")[:most]
    return [
        Use(
            n.name,
            reverse("admin:campaigns_notification_change", args=[n.pk]),
            n.get_status_display().lower(),
        )
        for n in notifications
    ]


class SendingRulesInline(AppSettingsInline):
    """The app's frequency caps, default zone and quiet hours, on the app's page."""

    model = SendingRules
    fieldsets = [
        ("Frequency caps", {"fields": ["min_interval_minutes", "daily_maximum"]}),
        (
            "Time zone and quiet hours",
            {
                "description": "Quiet hours hold in each device's own time zone; during them a "
                "notification waits until they end, or skips the device.",
                "fields": [
                    "default_time_zone",
                    ("quiet_hours_start", "quiet_hours_end"),
                    "quiet_hours_action",
                ],
            },
        ),
    ]
