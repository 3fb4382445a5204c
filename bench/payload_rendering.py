"""Benchmark what a send does per device before the network: content, personalization, payload.

For each platform, a notification with a plain text and one with personalization tokens are
rendered for many device contexts, as the fan-out will render them. Prints one JSON object per
line: messages rendered per second on one core.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pushcenter.settings")

PLAIN = ("Half price this weekend", "Every jacket and boot, until Sunday night.")
PERSONALIZED = (
    "{{ user.first_name | default('Hello') }}, half price this weekend",
    "Every jacket in {{ device.carrier_country | default('your country') }}, until Sunday.",
)
NAMES = ["Ana", "Ben", "", "Dev", "Émile"]
COUNTRIES = ["US", "FR", "DE", "", "BR"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=50_000)
    args = parser.parse_args()
    import django

    django.setup()
    contexts = [_context(n) for n in range(args.messages)]
    for platform in ("ios", "android", "windows"):
        for personalized, (title, body) in ((False, PLAIN), (True, PERSONALIZED)):
            notification = _notification(platform, title, body)
            rate = measure(notification, platform, contexts)
            print(
                json.dumps(
                    {
                        "bench": "payload_rendering",
                        "platform": platform,
                        "personalized": personalized,
                        "value": round(rate),
                        "unit": "messages/s",
                        "messages": len(contexts),
                    }
                )
            )


def _context(n: int) -> dict:
    user = {"id": f"user-{n}", "first_name": NAMES[n % len(NAMES)]}
    device = {"platform": "ios", "locale": "en-US", "carrier_country": COUNTRIES[n % 5]}
    return {
        "user": {k: v for k, v in user.items() if v},
        "device": {k: v for k, v in device.items() if v},
        "app": {"name": "retail"},
    }


def _notification(platform: str, title: str, body: str):
    from campaigns.models import Notification

    notification = Notification(
        platforms=[platform],
        image_url="https://cdn.example.com/sale.png",
        custom_data={"screen": "sale", "campaign": "weekend"},
        on_click="url",
        url="https://example.com/sale",
    )
    notification.set_text("title", "en", title)
    notification.set_text("body", "en", body)
    return notification


def measure(notification, platform: str, contexts: list[dict]) -> float:
    """Render one payload per context; return payloads per second."""
    from campaigns import content
    from devices.providers import registry
    from devices.providers.message import check_size

    started = time.perf_counter()
    for n, context in enumerate(contexts):
        message = content.message(
            notification, platform, "en", context=context, tracking_id=f"{n:032x}"
        )
        check_size(registry.render(platform, message))
    return len(contexts) / (time.perf_counter() - started)


if __name__ == "__main__":
    main()
