"""``SyncConfig``: the synchronizer's settings, loaded from TOML and environment variables and
validated on load with errors that say what to fix.

A minimal ``sync.toml``::

    storage = "sqlite:///sync.db"

    [inventory_planner]
    base_url = "https://app.inventory-planner.com"
    api_key = "env:IP_API_KEY"          # read from the environment, never written in the file
    account = "a1234"

    [feeds]
    kind = "starter"                     # or "advanced"
    directory = "feeds"

    [[shops]]
    key = "conrad-de"
    marketplace = "conrad"               # a known operator (sets the acceptance window)...
    base_url = "https://conrad-prod.mirakl.net"
    api_key = "env:CONRAD_API_KEY"
    shop_id = 2001

    [[shops]]
    key = "my-operator"
    marketplace = "custom"               # ...or "custom" with an explicit window
    acceptance_window = "4d"
    base_url = "https://my-operator.mirakl.net"
    api_key = "env:MY_OPERATOR_KEY"

Values written ``env:NAME`` are read from the environment variable ``NAME``; any setting can also
be overridden by ``MIRAKL_SYNC_<SECTION>_<NAME>`` variables (e.g. ``MIRAKL_SYNC_STORAGE``).
Secrets are held in :class:`~mirakl_sync._http.Secret` and never shown.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import attrs

from mirakl_sync._http import Secret
from mirakl_sync.errors import ConfigurationError

__all__ = [
    "JOB_NAMES",
    "MARKETPLACES",
    "AlertConfig",
    "FeedConfig",
    "InventoryPlannerConfig",
    "JobIntervals",
    "ShopConfig",
    "SyncConfig",
    "parse_duration",
]

#: Known operators and their acceptance windows (reference section 4). "custom" needs a window.
MARKETPLACES: Mapping[str, timedelta | None] = {
    "conrad": timedelta(days=5),
    "rue-du-commerce": timedelta(days=5),
    "jinius": timedelta(days=3),
    "modivo": timedelta(days=3),
    "sandbox": timedelta(days=3),
    "custom": None,
}

JOB_NAMES = (
    "pull_orders",
    "acceptance",
    "pending",
    "dispatch",
    "push_stock",
    "stock_full",
    "sales_feed",
    "finance",
    "reconcile",
)

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)
_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(value: object, name: str) -> timedelta:
    """``"3d"``, ``"90m"``, ``"1h30m"``, ``"45s"``, a number of seconds, or a timedelta."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip().replace(" ", "")
        parts = _DURATION.findall(text)
        if not parts or "".join(n + u for n, u in parts).lower() != text.lower():
            raise ConfigurationError(
                f"{name}: invalid duration {value!r} (use e.g. '3d', '90m', '1h30m')"
            )
        seconds = sum(float(n) * _UNITS[u.lower()] for n, u in parts)
    else:
        raise ConfigurationError(f"{name}: invalid duration {value!r}")
    if seconds <= 0:
        raise ConfigurationError(f"{name}: the duration must be positive, got {value!r}")
    return timedelta(seconds=seconds)


def _secret(value: object, name: str, env: Mapping[str, str]) -> Secret:
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{name} is missing")
    if value.startswith("env:"):
        variable = value[4:]
        if variable not in env or not env[variable].strip():
            raise ConfigurationError(f"{name}: environment variable {variable} is not set")
        return Secret(env[variable].strip())
    return Secret(value)


def _text(data: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{where}.{key} is missing")
    return value.strip()


def _check_keys(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigurationError(f"{where}: unknown setting(s) {', '.join(unknown)}")


@attrs.frozen(kw_only=True)
class ShopConfig:
    """One Mirakl shop on one marketplace.

    Attributes:
        key: a short stable name for the shop (scopes all stored state).
        marketplace: a known operator from :data:`MARKETPLACES` or ``"custom"``.
        base_url, api_key, shop_id: Mirakl connection.
        acceptance_window: the operator's acceptance window (from the marketplace unless given).
        allow_refusal: refuse order lines that cannot be covered (else they go MANUAL).
        sales_order_on: create the sales order on ``"payment"`` (SHIPPING) or ``"acceptance"``.
        safety_buffer: units kept back from every published quantity.
        max_published: upper clamp of any published quantity (``None``: no clamp).
        warehouse_codes: Mirakl warehouse code per inventory warehouse, for per-warehouse stock;
            empty means one global quantity per offer.
        stock_via: ``"STO01"`` (default) or ``"OF01"`` for operators without the stock API.
    """

    key: str
    marketplace: str
    base_url: str
    api_key: Secret = attrs.field(repr=False)
    shop_id: int | None = None
    acceptance_window: timedelta
    allow_refusal: bool = False
    sales_order_on: Literal["payment", "acceptance"] = "payment"
    safety_buffer: int = 0
    max_published: int | None = None
    warehouse_codes: Mapping[str, str] = attrs.field(factory=dict)
    stock_via: Literal["STO01", "OF01"] = "STO01"

    _FIELDS = frozenset(
        {
            "key",
            "marketplace",
            "base_url",
            "api_key",
            "shop_id",
            "acceptance_window",
            "allow_refusal",
            "sales_order_on",
            "safety_buffer",
            "max_published",
            "warehouse_codes",
            "stock_via",
        }
    )

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], index: int, env: Mapping[str, str]
    ) -> ShopConfig:
        where = f"shops[{index}]"
        _check_keys(data, set(cls._FIELDS), where)
        key = _text(data, "key", where)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", key):
            raise ConfigurationError(f"{where}.key {key!r}: use letters, digits, '-', '_', '.'")
        where = f"shop {key!r}"
        marketplace = _text(data, "marketplace", where).lower()
        if marketplace not in MARKETPLACES:
            known = ", ".join(sorted(MARKETPLACES))
            raise ConfigurationError(
                f"{where}: unknown marketplace {marketplace!r} (known: {known}; use 'custom' "
                "with acceptance_window for another operator)"
            )
        window_value = data.get("acceptance_window", MARKETPLACES[marketplace])
        if window_value is None:
            raise ConfigurationError(f"{where}: marketplace 'custom' needs acceptance_window")
        window = parse_duration(window_value, f"{where}.acceptance_window")
        if window > timedelta(days=30):
            raise ConfigurationError(f"{where}.acceptance_window: {window} is longer than 30 days")
        base_url = _text(data, "base_url", where)
        if not base_url.startswith(("https://", "http://")):
            raise ConfigurationError(f"{where}.base_url must start with https://")
        shop_id = data.get("shop_id")
        if shop_id is not None and (isinstance(shop_id, bool) or not str(shop_id).isdigit()):
            raise ConfigurationError(f"{where}.shop_id must be a number")
        sales_order_on = data.get("sales_order_on", "payment")
        if sales_order_on not in ("payment", "acceptance"):
            raise ConfigurationError(f"{where}.sales_order_on must be 'payment' or 'acceptance'")
        stock_via = data.get("stock_via", "STO01")
        if stock_via not in ("STO01", "OF01"):
            raise ConfigurationError(f"{where}.stock_via must be 'STO01' or 'OF01'")
        buffer = data.get("safety_buffer", 0)
        if not isinstance(buffer, int) or isinstance(buffer, bool) or buffer < 0:
            raise ConfigurationError(f"{where}.safety_buffer must be a whole number >= 0")
        max_published = data.get("max_published")
        if max_published is not None and (
            not isinstance(max_published, int)
            or isinstance(max_published, bool)
            or max_published < 0
        ):
            raise ConfigurationError(f"{where}.max_published must be a whole number >= 0")
        codes = data.get("warehouse_codes", {})
        if not isinstance(codes, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in codes.items()
        ):
            raise ConfigurationError(f"{where}.warehouse_codes must map warehouse -> Mirakl code")
        return cls(
            key=key,
            marketplace=marketplace,
            base_url=base_url,
            api_key=_secret(data.get("api_key"), f"{where}.api_key", env),
            shop_id=int(shop_id) if shop_id is not None else None,
            acceptance_window=window,
            allow_refusal=bool(data.get("allow_refusal", False)),
            sales_order_on=sales_order_on,
            safety_buffer=buffer,
            max_published=max_published,
            warehouse_codes=dict(codes),
            stock_via=stock_via,
        )


@attrs.frozen(kw_only=True)
class InventoryPlannerConfig:
    """Inventory Planner connection (``api_key`` and ``account`` headers)."""

    base_url: str = "https://app.inventory-planner.com"
    api_key: Secret = attrs.field(repr=False)
    account: str

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], env: Mapping[str, str]
    ) -> InventoryPlannerConfig:
        where = "inventory_planner"
        _check_keys(data, {"base_url", "api_key", "account"}, where)
        base_url = _text(data, "base_url", where, "https://app.inventory-planner.com")
        if not base_url.startswith(("https://", "http://")):
            raise ConfigurationError(f"{where}.base_url must start with https://")
        return cls(
            base_url=base_url,
            api_key=_secret(data.get("api_key"), f"{where}.api_key", env),
            account=_text(data, "account", where),
        )


@attrs.frozen(kw_only=True)
class FeedConfig:
    """How sales and stock reach Inventory Planner: ``starter`` snapshots or ``advanced``
    incremental files, written to ``directory``."""

    kind: Literal["starter", "advanced"] = "starter"
    directory: str = "feeds"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> FeedConfig:
        _check_keys(data, {"kind", "directory"}, "feeds")
        kind = data.get("kind", "starter")
        if kind not in ("starter", "advanced"):
            raise ConfigurationError("feeds.kind must be 'starter' or 'advanced'")
        return cls(kind=kind, directory=_text(data, "directory", "feeds", "feeds"))


#: Default job intervals, inside Mirakl's maximum frequencies.
DEFAULT_INTERVALS: Mapping[str, timedelta] = {
    "pull_orders": timedelta(minutes=5),
    "acceptance": timedelta(minutes=5),
    "pending": timedelta(minutes=5),
    "dispatch": timedelta(minutes=5),
    "push_stock": timedelta(minutes=5),
    "stock_full": timedelta(hours=24),
    "sales_feed": timedelta(hours=1),
    "finance": timedelta(hours=1),
    "reconcile": timedelta(minutes=15),
}

#: Jobs that run in a daily window by default ("HH:MM" UTC) rather than on an interval.
DEFAULT_WINDOWS: Mapping[str, str] = {"stock_full": "02:00"}

#: Mirakl's maxima behind each job: no interval may be shorter.
MIN_INTERVALS: Mapping[str, timedelta] = {
    "pull_orders": timedelta(minutes=1),  # OR11 once per minute
    "push_stock": timedelta(minutes=1),  # STO01 once per minute
}


_WINDOW = re.compile(r"daily@([01]\d|2[0-3]):([0-5]\d)")


@attrs.frozen(kw_only=True)
class JobIntervals:
    """When each job runs (``[jobs]`` table): an interval (``push_stock = "5m"``) or a daily
    window in UTC (``stock_full = "daily@02:00"``: once a day, at the first round after 02:00).
    """

    intervals: Mapping[str, timedelta] = attrs.field(factory=lambda: dict(DEFAULT_INTERVALS))
    windows: Mapping[str, tuple[int, int]] = attrs.field(
        factory=lambda: {
            job: (int(hhmm[:2]), int(hhmm[3:])) for job, hhmm in DEFAULT_WINDOWS.items()
        }
    )

    def interval(self, job: str) -> timedelta:
        return self.intervals[job]

    def is_due(self, job: str, last_start: datetime | None, now: datetime) -> bool:
        """Whether ``job`` should run at ``now`` given when it last started."""
        window = self.windows.get(job)
        if window is not None:
            opening = now.replace(hour=window[0], minute=window[1], second=0, microsecond=0)
            if now < opening:
                opening -= timedelta(days=1)
            return last_start is None or last_start < opening
        return last_start is None or now - last_start >= self.intervals[job]

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> JobIntervals:
        _check_keys(data, set(JOB_NAMES), "jobs")
        intervals = dict(DEFAULT_INTERVALS)
        windows = {j: (int(h[:2]), int(h[3:])) for j, h in DEFAULT_WINDOWS.items()}
        for job, value in data.items():
            if isinstance(value, str) and value.strip().lower().startswith("daily@"):
                match = _WINDOW.fullmatch(value.strip().lower())
                if match is None:
                    raise ConfigurationError(f"jobs.{job}: invalid window {value!r} (daily@HH:MM)")
                if job in MIN_INTERVALS:
                    raise ConfigurationError(f"jobs.{job}: needs an interval, not a window")
                windows[job] = (int(match.group(1)), int(match.group(2)))
                intervals[job] = timedelta(days=1)
                continue
            windows.pop(job, None)
            interval = parse_duration(value, f"jobs.{job}")
            floor = MIN_INTERVALS.get(job)
            if floor is not None and interval < floor:
                raise ConfigurationError(
                    f"jobs.{job}: {interval} is shorter than Mirakl's maximum frequency ({floor})"
                )
            intervals[job] = interval
        return cls(intervals=intervals, windows=windows)


@attrs.frozen(kw_only=True)
class AlertConfig:
    """One ``[[alerts]]`` entry: a sink by name, its route and its options.

    ``sink`` is ``logging``, ``webhook``, ``email``, a plugin's name or ``module:Factory``;
    ``min_severity``/``owners``/``kinds`` route alerts to it; every other key is passed to the
    sink (``url``, ``secret``, ``host``, ``recipients``...). ``env:NAME`` values are read from
    the environment, and ``secret``/``password`` become :class:`Secret` values.
    """

    sink: str
    min_severity: str = "info"
    owners: tuple[str, ...] | None = None
    kinds: tuple[str, ...] | None = None
    options: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    _SECRET_KEYS = frozenset({"secret", "password"})

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], index: int, env: Mapping[str, str]
    ) -> AlertConfig:
        where = f"alerts[{index}]"
        sink = _text(data, "sink", where)
        options: dict[str, Any] = {}
        for key, value in data.items():
            if key in ("sink", "min_severity", "owners", "kinds"):
                continue
            if key in cls._SECRET_KEYS:
                options[key] = _secret(value, f"{where}.{key}", env)
            elif isinstance(value, str) and value.startswith("env:"):
                options[key] = _secret(value, f"{where}.{key}", env).reveal()
            else:
                options[key] = value
        severity = str(data.get("min_severity", "info")).lower()
        if severity not in ("info", "warning", "error", "critical"):
            raise ConfigurationError(f"{where}.min_severity must be info/warning/error/critical")
        owners = data.get("owners")
        kinds = data.get("kinds")
        for name, value in (("owners", owners), ("kinds", kinds)):
            if value is not None and (
                not isinstance(value, list) or not all(isinstance(v, str) for v in value)
            ):
                raise ConfigurationError(f"{where}.{name} must be a list of strings")
        return cls(
            sink=sink,
            min_severity=severity,
            owners=tuple(owners) if owners is not None else None,
            kinds=tuple(kinds) if kinds is not None else None,
            options=options,
        )


@attrs.frozen(kw_only=True)
class SyncConfig:
    """Everything the :class:`~mirakl_sync.engine.Synchronizer` needs besides live objects."""

    shops: tuple[ShopConfig, ...]
    inventory_planner: InventoryPlannerConfig | None = None
    feeds: FeedConfig = attrs.field(factory=FeedConfig)
    jobs: JobIntervals = attrs.field(factory=JobIntervals)
    storage: str = "sqlite:///mirakl-sync.db"
    alerts: tuple[AlertConfig, ...] = ()

    def __attrs_post_init__(self) -> None:
        if not self.shops:
            raise ConfigurationError("at least one [[shops]] entry is required")
        keys = [shop.key for shop in self.shops]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ConfigurationError(f"duplicate shop key(s): {', '.join(duplicates)}")

    def shop(self, key: str) -> ShopConfig:
        for shop in self.shops:
            if shop.key == key:
                return shop
        raise ConfigurationError(f"no shop {key!r} in the configuration")

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], env: Mapping[str, str] | None = None
    ) -> SyncConfig:
        """Build and validate from plain data (as parsed from TOML)."""
        env = os.environ if env is None else env
        _check_keys(
            data, {"storage", "inventory_planner", "feeds", "jobs", "shops", "alerts"}, "config"
        )
        merged = _apply_env_overrides(data, env)
        shops = merged.get("shops")
        if not isinstance(shops, list) or not shops:
            raise ConfigurationError("at least one [[shops]] entry is required")
        ip = merged.get("inventory_planner")
        storage = merged.get("storage", "sqlite:///mirakl-sync.db")
        if not isinstance(storage, str) or "://" not in storage:
            raise ConfigurationError("storage must be a URL such as sqlite:///sync.db")
        return cls(
            shops=tuple(ShopConfig.from_mapping(s, i, env) for i, s in enumerate(shops)),
            inventory_planner=InventoryPlannerConfig.from_mapping(ip, env) if ip else None,
            feeds=FeedConfig.from_mapping(merged.get("feeds", {})),
            jobs=JobIntervals.from_mapping(merged.get("jobs", {})),
            storage=storage,
            alerts=tuple(
                AlertConfig.from_mapping(a, i, env) for i, a in enumerate(merged.get("alerts", []))
            ),
        )

    @classmethod
    def from_toml(cls, path: str | Path, env: Mapping[str, str] | None = None) -> SyncConfig:
        """Load ``path`` (TOML) and validate it; ``env`` defaults to ``os.environ``."""
        file = Path(path)
        try:
            with file.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigurationError(f"configuration file {file} not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"{file}: invalid TOML: {exc}") from None
        return cls.from_mapping(data, env)


def _apply_env_overrides(data: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """``MIRAKL_SYNC_STORAGE``, ``MIRAKL_SYNC_FEEDS_DIRECTORY``, ``MIRAKL_SYNC_JOBS_PUSH_STOCK``,
    ``MIRAKL_SYNC_INVENTORY_PLANNER_ACCOUNT``... override the file (shops are file-only)."""
    merged: dict[str, Any] = {
        k: (dict(v) if isinstance(v, Mapping) else v) for k, v in data.items()
    }
    prefix = "MIRAKL_SYNC_"
    if f"{prefix}STORAGE" in env:
        merged["storage"] = env[f"{prefix}STORAGE"]
    for section in ("inventory_planner", "feeds", "jobs"):
        section_prefix = f"{prefix}{section.upper()}_"
        for name, value in env.items():
            if name.startswith(section_prefix):
                merged.setdefault(section, {})[name[len(section_prefix) :].lower()] = value
    return merged
