"""Find alert sinks by name: ``load_sink("webhook", url=..., secret=...)``.

Lookup order for a name:

1. sinks registered at run time with :func:`register_sink`;
2. the built-ins (``logging``, ``webhook``, ``email``), imported only when used;
3. third-party plugins declared under the entry-point group ``mirakl_sync.alerts``, loaded only
   when their name is asked for;
4. a dotted ``"package.module:Attribute"`` spec, imported directly.

An entry point's name is the sink name and its value a ``module:attribute`` that is a class or a
callable ``factory(**options) -> AlertSink``. A plugin that fails to import raises
:class:`~mirakl_sync.errors.ConfigurationError` naming the plugin and its distribution when its
name is asked for; it never breaks ``import mirakl_sync`` or the other sinks.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from importlib import metadata

from mirakl_sync.alerts.base import AlertSink
from mirakl_sync.alerts.routing import Route, RoutedSink
from mirakl_sync.errors import ConfigurationError

__all__ = [
    "ENTRY_POINT_GROUP",
    "SinkFactory",
    "available_sinks",
    "load_sink",
    "register_sink",
]

ENTRY_POINT_GROUP = "mirakl_sync.alerts"

_log = logging.getLogger(__name__)

SinkFactory = Callable[..., AlertSink]
"""``factory(**options) -> AlertSink`` (a sink class is one)."""

# name -> dotted "module:attribute"
_BUILTINS: dict[str, str] = {
    "logging": "mirakl_sync.alerts.base:LoggingSink",
    "webhook": "mirakl_sync.alerts.webhook:WebhookSink",
    "email": "mirakl_sync.alerts.email:EmailSink",
}

_registered: dict[str, SinkFactory | str] = {}
_lock = threading.Lock()


def _normalise_name(name: str) -> str:
    cleaned = name.strip().lower() if isinstance(name, str) else ""
    if not cleaned or not all(ch.isalnum() or ch in "_-." for ch in cleaned):
        raise ConfigurationError(f"invalid alert sink name {name!r}")
    return cleaned


def register_sink(name: str, factory: SinkFactory | str, *, clobber: bool = False) -> None:
    """Register a sink factory under ``name`` at run time.

    ``factory`` is a sink class, a callable ``(**options) -> AlertSink`` or a
    ``"module:attribute"`` string imported on first use. An existing registration (or a
    built-in name) is only replaced with ``clobber=True``.
    """
    key = _normalise_name(name)
    with _lock:
        if not clobber and (key in _registered or key in _BUILTINS):
            raise ConfigurationError(
                f"alert sink {key!r} is already registered (pass clobber=True to replace it)"
            )
        _registered[key] = factory


def unregister_sink(name: str) -> None:
    """Remove a run-time registration (built-ins and plugins cannot be removed)."""
    with _lock:
        _registered.pop(_normalise_name(name), None)


def _entry_points() -> dict[str, metadata.EntryPoint]:
    return {ep.name.lower(): ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def available_sinks() -> list[str]:
    """Every sink name :func:`load_sink` knows (built-in, registered and plugin), sorted.
    Plugins are listed without being imported."""
    names = set(_BUILTINS) | set(_registered)
    try:
        names |= set(_entry_points())
    except Exception as exc:  # broken metadata must not break listing
        _log.warning("could not read the %s entry points: %s", ENTRY_POINT_GROUP, exc)
    return sorted(names)


def _import_path(path: str, *, what: str) -> object:
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigurationError(f"{what}: expected 'package.module:Attribute', got {path!r}")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ConfigurationError(
            f"{what} could not be imported ({path}): {type(exc).__name__}: {exc}"
        ) from exc
    target: object = module
    try:
        for part in attr.split("."):
            target = getattr(target, part)
    except AttributeError as exc:
        raise ConfigurationError(f"{what}: {module_name} has no attribute {attr!r}") from exc
    return target


def _resolve(name_or_spec: str) -> tuple[object, str]:
    if ":" in name_or_spec:
        what = f"alert sink {name_or_spec!r}"
        return _import_path(name_or_spec.strip(), what=what), what
    name = _normalise_name(name_or_spec)
    what = f"alert sink {name!r}"
    registered = _registered.get(name)
    if registered is not None:
        if isinstance(registered, str):
            return _import_path(registered, what=what), what
        return registered, what
    if name in _BUILTINS:
        return _import_path(_BUILTINS[name], what=what), what
    try:
        plugins = _entry_points()
    except Exception as exc:
        raise ConfigurationError(
            f"could not read the {ENTRY_POINT_GROUP} entry points: {exc}"
        ) from exc
    entry = plugins.get(name)
    if entry is None:
        known = ", ".join(available_sinks())
        raise ConfigurationError(f"unknown alert sink {name!r} (known sinks: {known})")
    what = f"alert sink plugin {name!r} ({entry.value}"
    dist = getattr(entry, "dist", None)
    if dist is not None:
        what += f" from distribution {dist.name!r}"
    what += ")"
    try:
        return entry.load(), what
    except Exception as exc:
        raise ConfigurationError(f"{what} failed to load: {type(exc).__name__}: {exc}") from exc


def load_sink(
    name_or_spec: str | AlertSink,
    *,
    route: Route | None = None,
    **options: object,
) -> AlertSink:
    """Build a sink by name (``"logging"``, ``"webhook"``, ``"email"``, a plugin's name) or
    ``"package.module:Factory"``, passing ``options`` to its factory; an :class:`AlertSink`
    instance is returned unchanged (dependency injection wins).

    With ``route``, the sink is wrapped in a :class:`~mirakl_sync.alerts.routing.RoutedSink`.

    Raises:
        ConfigurationError: unknown name, a plugin that fails to import, a factory that rejects
            the options or returns something that is not an ``AlertSink``.
    """
    if not isinstance(name_or_spec, str):
        if not isinstance(name_or_spec, AlertSink):
            raise ConfigurationError(
                f"{type(name_or_spec).__name__} is not an AlertSink (it needs a 'name' "
                "attribute and a send(alert) method)"
            )
        if options:
            raise ConfigurationError("options cannot be given with a sink instance")
        sink: AlertSink = name_or_spec
    else:
        factory, what = _resolve(name_or_spec)
        if not callable(factory):
            raise ConfigurationError(f"{what} is not a class or a callable")
        try:
            built = factory(**options)
        except ConfigurationError:
            raise
        except Exception as exc:
            raise ConfigurationError(
                f"{what} could not be created: {type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(built, AlertSink):
            raise ConfigurationError(
                f"{what} returned {type(built).__name__}, which is not an AlertSink"
            )
        sink = built
    return RoutedSink(sink, route) if route is not None else sink
