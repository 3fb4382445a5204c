"""Serve the dashboard's overview from an installed wheel, with the production settings.

Run by the wheel's own interpreter outside the checkout, after `pushcenter migrate` and
`pushcenter collectstatic`: the page renders the package's templates (our admin/index.html)
and names the package's static files by their hashed, collected names, so a template or
static file missing from the wheel fails here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import django


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pushcenter.settings")
    django.setup()
    # Imported once Django is set up: models and storages need the settings.
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.test import Client

    import pushcenter

    installed = Path(pushcenter.__file__).resolve()
    if not installed.is_relative_to(Path(sys.prefix).resolve()):
        print(f"pushcenter was imported from {installed}, not from the installed wheel")
        return 1
    user, _ = User.objects.get_or_create(username="wheel-check", is_superuser=True, is_staff=True)
    client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0])
    client.force_login(user)
    page = client.get("/", secure=True)
    stylesheet = staticfiles_storage.url("pushcenter/dashboard.css")
    if page.status_code != 200 or stylesheet not in page.content.decode():
        print(f"the overview answered {page.status_code} without {stylesheet}")
        return 1
    print(f"the installed dashboard ({installed.parent}) serves its overview with {stylesheet}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
