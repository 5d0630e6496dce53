"""Named crash points for crash tests.

The engine calls :func:`crash_point` at the moments between "intent recorded" and "outcome
recorded" (``outbox.after_enqueue``, ``outbox.after_mark_sent``, ``outbox.after_call``,
``outbox.after_complete``...). When the environment variable ``MIRAKL_SYNC_CRASH_AT`` names one of
them (``name`` or ``name:N`` for the N-th time it is reached), the process kills itself with
SIGKILL there: no cleanup, no flush, exactly like a power cut. Unset, a crash point costs one
dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import threading

__all__ = ["CRASH_POINTS", "crash_point"]

#: Every crash point the engine defines (tests iterate over these).
CRASH_POINTS = (
    "outbox.after_enqueue",
    "outbox.after_mark_sent",
    "outbox.after_call",
    "outbox.after_complete",
    "orders.after_page",
    "stock.after_import_recorded",
    "feed.after_write",
)

_lock = threading.Lock()
_seen: dict[str, int] = {}


def _targets() -> dict[str, int]:
    spec = os.environ.get("MIRAKL_SYNC_CRASH_AT", "")
    targets: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, count = part.partition(":")
        targets[name] = int(count) if count.isdigit() else 1
    return targets


def crash_point(name: str, kind: str | None = None) -> None:
    """SIGKILL this process if ``MIRAKL_SYNC_CRASH_AT`` asks for a crash at ``name`` now.

    With ``kind`` (an outbox item kind such as ``OR24``) the point can also be targeted as
    ``name.KIND`` (``outbox.after_call.OR24``)."""
    targets = _targets()
    if not targets:
        return
    for candidate in (name, f"{name}.{kind}") if kind else (name,):
        if candidate not in targets:
            continue
        with _lock:
            _seen[candidate] = _seen.get(candidate, 0) + 1
            if _seen[candidate] == targets[candidate]:
                os.kill(os.getpid(), signal.SIGKILL)
