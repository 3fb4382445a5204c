"""Create the demo data (idempotent) and print the logins and tokens."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from pushcenter.demo import demo_file, seed


class Command(BaseCommand):
    help = "Seed the demo organization, apps, users and API tokens; write var/demo.json."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args: object, url: str, **options: object) -> None:
        facts = seed(url)
        self.stdout.write(describe(facts))
        self.stdout.write(f"(also written to {demo_file()})")


def describe(facts: dict) -> str:
    """Say what the demo serves: its URL, logins and apps with their tokens."""
    lines = [f"Push Center: {facts['url']}", "", "Logins:"]
    lines += [f"  {u['username']:<10} {u['password']:<14} {u['role']}" for u in facts["users"]]
    lines += ["", "Apps:"]
    for app in facts["apps"]:
        lines += [
            f"  {app['owner_name']}/{app['app_name']} ({', '.join(app['platforms'])})",
            f"    organization_id {app['organization_id']}",
            f"    application_id  {app['application_id']}",
            f"    api_token       {app['api_token']}  (server token: keep on servers)",
            f"    client_key      {app['client_key']}  (client key: ships in the app)",
        ]
    return "\n".join(lines)
