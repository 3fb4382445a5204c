"""Keep what the gateways received: one JSON object a line in SANDBOX_DIR/received.jsonl."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RECEIVED_FILE = "received.jsonl"
# Headers whose values are credentials: kept as their scheme only, never their value.
SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie")


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """Return the headers with every credential value replaced by its scheme and an ellipsis."""
    redacted = {}
    for name, value in headers.items():
        if name in SECRET_HEADERS:
            scheme, _, rest = value.partition(" ")
            scheme = "Bearer" if scheme.lower() == "bearer" else scheme
            value = f"{scheme} …" if rest else "…"
        redacted[name] = value
    return redacted


class Recorder:
    """Append one line per request; a lock keeps concurrent requests' lines whole."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / RECEIVED_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def record(
        self,
        provider: str,
        target: str | None,
        headers: dict[str, str],
        payload: Any,
        status: int,
        **facts: Any,
    ) -> None:
        """Append what was received and the status answered; `facts` add keys (reason, …)."""
        line = {
            "provider": provider,
            "target": target,
            "headers": redact_headers(headers),
            "payload": payload,
            "status": status,
            "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            **facts,
        }
        text = json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as output:
            output.write(text)

    def size(self) -> int:
        """Return the file's length in bytes: an offset for `read`."""
        with self._lock:
            try:
                return self.path.stat().st_size
            except FileNotFoundError:
                return 0

    def read(self, offset: int = 0) -> list[dict[str, Any]]:
        """Return the lines recorded after byte `offset`, parsed."""
        with self._lock:
            try:
                with open(self.path, "rb") as received:
                    received.seek(offset)
                    data = received.read()
            except FileNotFoundError:
                return []
        return [json.loads(line) for line in data.decode("utf-8").splitlines() if line]
