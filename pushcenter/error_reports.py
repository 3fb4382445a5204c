"""Error reports that mask the passwords written inside URL settings.

Django's SafeExceptionReporterFilter hides settings whose names look secret (PASSWORD, KEY,
TOKEN…), but CELERY_BROKER_URL, CELERY_RESULT_BACKEND, a cache LOCATION or a DATABASE_URL in
the environment (request.META under runserver) carry their password inside the value:
`redis://:password@host:6379/0`. This filter masks that part wherever a string is shown.
"""

from __future__ import annotations

import re

from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter

# The userinfo of a URL (RFC 3986 §3.2.1): `//user:password@`. The password runs to the last
# "@" before the path, so a password holding an unescaped "@" is masked whole.
URL_PASSWORD = re.compile(r"(//[^/\s:@]*:)[^\s/]*@")


def mask_url_passwords(text: str, substitute: str) -> str:
    """Replace the password of every URL in the text with the substitute."""
    return URL_PASSWORD.sub(lambda match: f"{match.group(1)}{substitute}@", text)


class UrlPasswordFilter(SafeExceptionReporterFilter):
    """Hide what Django hides, and the password inside any URL among settings and values."""

    def cleanse_setting(self, key: object, value: object) -> object:
        """Cleanse as Django does (dicts and lists included), then mask URL passwords."""
        cleansed = super().cleanse_setting(key, value)
        if isinstance(cleansed, str):
            return mask_url_passwords(cleansed, self.cleansed_substitute)
        return cleansed

    def cleanse_special_types(self, request: HttpRequest, value: object) -> object:
        """Mask URL passwords in a traceback's local variables that are strings."""
        cleansed = super().cleanse_special_types(request, value)
        if isinstance(cleansed, str):
            return mask_url_passwords(cleansed, self.cleansed_substitute)
        return cleansed
