"""Run the loopback APNs, FCM and WNS look-alikes until Ctrl-C (see devices.sandbox)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from devices.sandbox.directory import CredentialDirectory
from devices.sandbox.server import SandboxGateways


class Command(BaseCommand):
    help = (
        "Serve the sandbox APNs, FCM and WNS gateways over TLS on 127.0.0.1, checking requests "
        "against the apps' credentials, recording each in received.jsonl, until Ctrl-C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--apns-port", type=int, default=settings.SANDBOX_APNS_PORT)
        parser.add_argument("--fcm-port", type=int, default=settings.SANDBOX_FCM_PORT)
        parser.add_argument("--wns-port", type=int, default=settings.SANDBOX_WNS_PORT)
        parser.add_argument(
            "--dir",
            dest="directory",
            type=Path,
            default=Path(settings.SANDBOX_DIR),
            help="Where the CA, the server certificate and received.jsonl live.",
        )

    def handle(
        self,
        *args: object,
        apns_port: int,
        fcm_port: int,
        wns_port: int,
        directory: Path,
        **options: object,
    ) -> None:
        credentials = CredentialDirectory(database=True)
        gateways = SandboxGateways(
            directory, credentials, apns_port=apns_port, fcm_port=fcm_port, wns_port=wns_port
        )
        try:
            asyncio.run(self._serve(gateways))
        except OSError as error:
            raise CommandError(str(error)) from error
        finally:
            credentials.close()
        self.stdout.write("Sandbox gateways stopped.")

    async def _serve(self, gateways: SandboxGateways) -> None:
        shutdown = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signal_number, shutdown.set)
        await gateways.serve(shutdown, on_ready=lambda: self._describe(gateways))

    def _describe(self, gateways: SandboxGateways) -> None:
        apns, fcm, wns = (gateways.url(p) for p in ("apns", "fcm", "wns"))
        self.stdout.write(
            "\n".join(
                [
                    "Sandbox gateways on 127.0.0.1:",
                    f"  APNs  {apns}  (HTTP/2; POST /3/device/{{token}})",
                    f"  FCM   {fcm}  (POST /v1/projects/{{project}}/messages:send;"
                    f" token endpoint {fcm}/token)",
                    f"  WNS   {wns}  (channel URIs {wns}/?token=…;"
                    f" token endpoints {wns}/{{tenant}}/oauth2/v2.0/token"
                    f" and {wns}/accesstoken.srf)",
                    f"CA certificate: {gateways.certificates.ca}",
                    f"Recording to:   {gateways.recorder.path}",
                    "Press Ctrl-C to stop.",
                ]
            )
        )
        self.stdout.flush()
