"""Print a new API token, a server token or a client key, for an app named OWNER_NAME/APP_NAME."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from devices.models import TokenKind
from devices.services import find_app, issue_api_token


class Command(BaseCommand):
    help = (
        "Create an API token for OWNER_NAME/APP_NAME and print it (it is shown only once). "
        "A server token does everything and stays on your servers; a client key ships inside "
        "the app and can only register its device and report launches."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("app", help="the app as OWNER_NAME/APP_NAME")
        parser.add_argument("--name", default="Command line", help="what the token is for")
        parser.add_argument(
            "--kind",
            choices=TokenKind.values,
            default=TokenKind.SERVER,
            help="server (default): everything, never inside an app; client: the app's key",
        )

    def handle(self, *args: object, app: str, name: str, kind: str, **options: object) -> None:
        owner_name, _, app_name = app.partition("/")
        if not owner_name or not app_name:
            raise CommandError(f"app must be OWNER_NAME/APP_NAME; got {app!r}")
        mobile_app = find_app(owner_name, app_name)
        if mobile_app is None:
            raise CommandError(f"no app {owner_name}/{app_name}")
        _, plaintext = issue_api_token(mobile_app, name, kind=kind)
        self.stdout.write(plaintext)
