"""Delete devices that were retired (unregistered, invalid or expired) more than N days ago."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from devices.registration import prune_devices


class Command(BaseCommand):
    help = "Delete devices retired more than --days days ago; active devices are never touched."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, required=True, help="retired for more than this")

    def handle(self, *args: object, days: int, **options: object) -> None:
        if days < 0:
            self.stderr.write("--days must be 0 or more")
            raise SystemExit(2)
        deleted = prune_devices(days)
        self.stdout.write(f"Deleted {deleted} device(s) retired more than {days} day(s) ago.")
