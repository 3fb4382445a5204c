"""The Celery application: workers and Beat share Django's settings (CELERY_*)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pushcenter.settings")

app = Celery("pushcenter")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
