"""The webhook pages: an app's endpoints (secret shown once, kinds, enable, rotate, test event,
recent attempts) and its batches, with the dead letters and their replay."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from devices import encryption, membership
from webhooks import services, signing
from webhooks.forms import EndpointForm
from webhooks.models import Attempt, Batch, BatchStatus, Endpoint

RECENT_ATTEMPTS = 20


def _shown_once_key(pk: int) -> str:
    return f"new-webhook-secret-{pk}"


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    change_form_template = "admin/webhooks/endpoint/change_form.html"
    list_display = ["url", "app", "events", "state", "dead_letters"]
    list_filter = [("app", admin.RelatedOnlyFieldListFilter), "enabled"]
    fields = ["app", "url", "description", "events", "enabled", "state", "secret_set_at"]
    readonly_fields = ["state", "secret_set_at"]

    @admin.display(description="Events")
    def events(self, endpoint: Endpoint) -> str:
        return ", ".join(endpoint.kinds)

    @admin.display(description="State")
    def state(self, endpoint: Endpoint) -> str:
        if not endpoint.enabled:
            return "disabled"
        if endpoint.paused_at:
            return f"paused: {endpoint.paused_reason}"
        failures = endpoint.consecutive_failures
        return f"receiving ({failures} failed tries in a row)" if failures else "receiving"

    @admin.display(description="Dead letters")
    def dead_letters(self, endpoint: Endpoint) -> str:
        count = endpoint.batches.filter(status=BatchStatus.DEAD).count()
        url = reverse("admin:webhooks_batch_changelist")
        return format_html(
            '<a href="{}?endpoint__id__exact={}&status__exact=dead">{}</a>', url, endpoint.pk, count
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Endpoint]:
        apps = membership.apps_of(request.user)
        return super().get_queryset(request).filter(app__in=apps).select_related("app")

    def get_readonly_fields(self, request: HttpRequest, obj: Endpoint | None = None) -> list:
        return [*self.readonly_fields, "app"] if obj is not None else self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: Endpoint | None = None) -> list:
        if obj is None:
            return ["app", "url", "description", "events", "enabled"]
        return self.fields

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: object):
        if db_field.name == "app":
            kwargs["queryset"] = membership.apps_of(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Endpoint, form: EndpointForm, change: bool):
        data = form.cleaned_data
        if change:
            services.change_endpoint(
                obj,
                url=data["url"],
                description=data["description"],
                kinds=data["events"],
                enabled=data["enabled"],
            )
            return
        endpoint, secret = services.create_endpoint(
            data["app"], data["url"], data["events"], data["description"], data["enabled"]
        )
        obj.pk = endpoint.pk
        # Held in the session, encrypted, only until the next page shows it.
        request.session[_shown_once_key(endpoint.pk)] = encryption.encrypt(secret)

    def delete_model(self, request: HttpRequest, obj: Endpoint) -> None:
        services.delete_endpoint(obj)

    def response_add(self, request: HttpRequest, obj: Endpoint, post_url_continue=None):
        return redirect("admin:webhooks_endpoint_secret", obj.pk)

    def render_change_form(self, request: HttpRequest, context: dict, *args, **kwargs):
        endpoint = kwargs.get("obj")
        if endpoint is not None:
            context["attempts"] = (
                Attempt.objects.filter(batch__endpoint=endpoint)
                .select_related("batch")
                .order_by("-started_at")[:RECENT_ATTEMPTS]
            )
        return super().render_change_form(request, context, *args, **kwargs)

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/secret/", view(self.secret_view), name="webhooks_endpoint_secret"),
            path(
                "<int:pk>/rotate/",
                view(require_POST(self.rotate_view)),
                name="webhooks_endpoint_rotate",
            ),
            path(
                "<int:pk>/test/", view(require_POST(self.test_view)), name="webhooks_endpoint_test"
            ),
            *super().get_urls(),
        ]

    def secret_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Show a new secret once; afterwards the page only says it was shown."""
        endpoint = get_object_or_404(self.get_queryset(request), pk=pk)
        ciphertext = request.session.pop(_shown_once_key(pk), None)
        if ciphertext is None:
            self.message_user(
                request,
                "This endpoint's secret was shown once already; rotate it to get a new one.",
                messages.WARNING,
            )
            return redirect("admin:webhooks_endpoint_change", pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Webhook endpoint secret",
            "endpoint": endpoint,
            "secret": encryption.decrypt(ciphertext),
            "timestamp_header": signing.TIMESTAMP_HEADER,
            "signature_header": signing.SIGNATURE_HEADER,
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/webhooks/endpoint/secret.html", context)

    def rotate_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        endpoint = self._changeable(request, pk)
        secret = services.rotate_secret(endpoint)
        self.log_change(request, endpoint, "Rotated the secret.")
        request.session[_shown_once_key(endpoint.pk)] = encryption.encrypt(secret)
        return redirect("admin:webhooks_endpoint_secret", endpoint.pk)

    def test_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        endpoint = self._changeable(request, pk)
        services.send_test_event(endpoint)
        self.message_user(
            request, "A test event is queued: its attempt shows below once it is posted."
        )
        return redirect("admin:webhooks_endpoint_change", endpoint.pk)

    def _changeable(self, request: HttpRequest, pk: int) -> Endpoint:
        endpoint = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        return endpoint


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    """Batches posted or to be posted; the dead letters are those given up on."""

    change_list_template = "admin/webhooks/batch/change_list.html"
    list_display = ["pk", "endpoint", "status", "event_count", "attempts", "last_error", "when"]
    list_filter = ["status", ("endpoint", admin.RelatedOnlyFieldListFilter)]
    actions = ["replay"]
    fields = ["endpoint", "status", "event_count", "attempts", "last_error", "body"]
    readonly_fields = fields

    @admin.display(description="Last try or due", ordering="next_attempt_at")
    def when(self, batch: Batch) -> str:
        moment = batch.finished_at or batch.next_attempt_at
        return f"{moment:%Y-%m-%d %H:%M:%S}"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Batch]:
        apps = membership.apps_of(request.user)
        return (
            super().get_queryset(request).filter(endpoint__app__in=apps).select_related("endpoint")
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Batch | None = None) -> bool:
        return False

    @admin.action(description="Replay the selected dead letters", permissions=["change"])
    def replay(self, request: HttpRequest, queryset: QuerySet[Batch]) -> None:
        count = services.replay(queryset)
        self.message_user(request, f"Replaying {count} dead letter(s).", messages.SUCCESS)

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(require_POST(self.replay_all_view))
        return [path("replay-all/", view, name="webhooks_batch_replay_all"), *super().get_urls()]

    def replay_all_view(self, request: HttpRequest) -> HttpResponse:
        """Replay every dead letter the user may see, of one app if the list was filtered."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        batches = self.get_queryset(request)
        app_id = request.POST.get("app", "")
        if app_id.isdigit():
            app = get_object_or_404(membership.apps_of(request.user), pk=int(app_id))
            batches = batches.filter(endpoint__app=app)
        count = services.replay(batches)
        self.message_user(request, f"Replaying {count} dead letter(s).", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:webhooks_batch_changelist"))

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        extra = {"apps": membership.apps_of(request.user).order_by("name"), **(extra_context or {})}
        return super().changelist_view(request, extra)
