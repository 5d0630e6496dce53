"""Helpers shared by the benchmarks (not a benchmark itself).

* :func:`machine` describes the machine (CPU model, cores, RAM, Python) for the report;
* :func:`peak_rss_mb` is this process's peak resident memory;
* :class:`OfferIndex` gives a sandbox's ``MiraklState`` an O(1) ``offer_by_sku`` so catalogues
  of 100,000s of offers can be seeded and imported (the sandbox's own lookup is a linear scan:
  fine for tests, quadratic for a 200,000-offer STO01 import);
* :func:`emit_json` prints the one-line machine-readable summary that ``run_all.py`` reads.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from mirakl_sync.sandbox.mirakl.state import MiraklState, Offer

#: prefix of the machine-readable summary line every benchmark prints with ``--json``
JSON_PREFIX = "BENCH-JSON "


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB.

    On Linux ``VmHWM`` (the high-water mark of this program's own memory): ``ru_maxrss``
    would also count the parent's memory, inherited through fork + exec by a child process.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def machine() -> dict[str, Any]:
    """The machine the figures were measured on."""
    ram = _ram_gib()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count() or 0,
        "ram_gib": round(ram, 1) if ram is not None else None,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": f"{platform.system()} {platform.release()}",
    }


def machine_line() -> str:
    m = machine()
    ram = f"{m['ram_gib']} GiB RAM" if m["ram_gib"] is not None else "RAM unknown"
    return f"{m['cpu']}, {m['cores']} cores, {ram}, {m['python']}, {m['os']}"


def emit_json(name: str, rows: Sequence[Mapping[str, Any]], **extra: Any) -> None:
    """Print the summary line ``BENCH-JSON {"bench": name, "rows": [...], ...}``.

    Each row: ``workload``, ``ours``, ``baseline`` (display strings), ``ratio`` (float or
    ``None``), ``peak_mb`` (float or ``None``), optional ``target`` (text), ``ok`` (bool or
    ``None`` when the row has no target) and ``note``.
    """
    payload = {"bench": name, "rows": list(rows), **extra}
    print(JSON_PREFIX + json.dumps(payload, default=str), flush=True)


class OfferIndex:
    """An O(1) replacement for ``MiraklState.offer_by_sku`` (same results).

    Install it with :meth:`install`; offers created with ``state.add_offer`` must then be
    registered with :meth:`add` (as :func:`add_offers` does). Offers created any other way are
    picked up by a full rebuild the first time the offer count disagrees.
    """

    def __init__(self, state: MiraklState) -> None:
        self._state = state
        self._map: dict[tuple[int, str], Offer] = {}
        self._count = 0
        self._rebuild()

    @classmethod
    def install(cls, state: MiraklState) -> OfferIndex:
        index = cls(state)
        state.offer_by_sku = index.lookup  # type: ignore[method-assign]
        return index

    def _rebuild(self) -> None:
        self._map = {}
        for offer in self._state.offers.values():
            if not offer.deleted:
                self._map[(offer.shop_id, offer.shop_sku)] = offer
        self._count = len(self._state.offers)

    def add(self, offer: Offer) -> None:
        self._map[(offer.shop_id, offer.shop_sku)] = offer
        self._count = len(self._state.offers)

    def lookup(self, shop_id: int, sku: str) -> Offer | None:
        if self._count != len(self._state.offers):
            self._rebuild()
        offer = self._map.get((shop_id, sku))
        if offer is not None and offer.deleted:
            self._rebuild()
            offer = self._map.get((shop_id, sku))
        return offer


def add_offers(
    state: MiraklState, index: OfferIndex, shop_id: int, offers: list[tuple[str, int, str]]
) -> None:
    """``state.add_offer`` for each ``(sku, quantity, price)``, kept in ``index``."""
    for sku, quantity, price in offers:
        index.add(state.add_offer(shop_id, sku, quantity=quantity, price=price))


def fmt_int(value: float) -> str:
    return f"{value:,.0f}"


def fmt_bytes(value: float) -> str:
    if value >= 2**20:
        return f"{value / 2**20:,.2f} MiB"
    if value >= 1024:
        return f"{value / 1024:,.1f} KiB"
    return f"{value:,.0f} B"


def stderr(*args: object) -> None:
    print(*args, file=sys.stderr, flush=True)
