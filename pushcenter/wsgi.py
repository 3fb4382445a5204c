"""WSGI entry point for gunicorn: `gunicorn pushcenter.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pushcenter.settings")
application = get_wsgi_application()
