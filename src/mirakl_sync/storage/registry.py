"""Choose a storage backend by URL scheme: ``open_storage("sqlite:///state.db")``.

Lookup order for a scheme:

1. backends registered at run time with :func:`register_storage`;
2. the built-ins (``memory``, ``sqlite``, ``postgresql``/``postgres``), imported only when used;
3. third-party plugins declared under the entry-point group ``mirakl_sync.storage``, loaded only
   when their scheme is asked for.

An entry point's name is the scheme and its value a ``module:attribute`` that is either a class
with a ``from_url(url, **options)`` classmethod or a callable ``factory(url, **options)``.
A plugin that fails to import raises :class:`~mirakl_sync.errors.StorageError` naming the plugin
when its scheme is asked for; it never breaks ``import mirakl_sync`` or the other backends.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from importlib import metadata
from typing import cast
from urllib.parse import urlsplit

from mirakl_sync.errors import StorageError
from mirakl_sync.storage.base import Storage

__all__ = [
    "ENTRY_POINT_GROUP",
    "StorageFactory",
    "available_schemes",
    "open_storage",
    "register_storage",
]

ENTRY_POINT_GROUP = "mirakl_sync.storage"

_log = logging.getLogger(__name__)

StorageFactory = Callable[..., Storage]
"""``factory(url, **options) -> Storage``."""

# scheme -> (dotted "module:attribute", install hint or None)
_BUILTINS: dict[str, tuple[str, str | None]] = {
    "memory": ("mirakl_sync.storage.memory:MemoryStorage", None),
    "sqlite": ("mirakl_sync.storage.sqlite:SQLiteStorage", None),
    "postgresql": (
        "mirakl_sync.storage.postgres:PostgresStorage",
        "pip install 'mirakl-sync[postgres]'",
    ),
    "postgres": (
        "mirakl_sync.storage.postgres:PostgresStorage",
        "pip install 'mirakl-sync[postgres]'",
    ),
}

_registered: dict[str, StorageFactory | str] = {}
_lock = threading.Lock()


def _normalise_scheme(scheme: str) -> str:
    name = scheme.strip().lower()
    if not name or not all(ch.isalnum() or ch in "+-." for ch in name):
        raise StorageError(f"invalid storage scheme {scheme!r}")
    return name


def register_storage(scheme: str, factory: StorageFactory | str, *, clobber: bool = False) -> None:
    """Register a backend for ``scheme`` at run time.

    ``factory`` is a class with ``from_url``, a callable ``(url, **options) -> Storage``, or a
    ``"module:attribute"`` string imported on first use. An existing registration (or a
    built-in scheme) is only replaced with ``clobber=True``.
    """
    name = _normalise_scheme(scheme)
    with _lock:
        if not clobber and (name in _registered or name in _BUILTINS):
            raise StorageError(
                f"storage scheme {name!r} is already registered (pass clobber=True to replace it)"
            )
        _registered[name] = factory


def _entry_points() -> dict[str, metadata.EntryPoint]:
    return {ep.name.lower(): ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def available_schemes() -> list[str]:
    """Every scheme :func:`open_storage` knows (built-in, registered and plugin), sorted.
    Plugins are listed without being imported."""
    names = set(_BUILTINS) | set(_registered)
    try:
        names |= set(_entry_points())
    except Exception as exc:  # pragma: no cover - broken metadata must not break listing
        _log.warning("could not read the %s entry points: %s", ENTRY_POINT_GROUP, exc)
    return sorted(names)


def _import_path(path: str, *, what: str, hint: str | None) -> object:
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or ""
        if hint and missing.split(".")[0] in {"psycopg", "psycopg_pool"}:
            raise StorageError(
                f"{what} needs the '{missing.split('.')[0]}' package: {hint}"
            ) from exc
        raise StorageError(f"{what} could not be imported ({path}): {exc}") from exc
    try:
        return getattr(module, attr) if attr else module
    except AttributeError as exc:
        raise StorageError(f"{what}: {module_name} has no attribute {attr!r}") from exc


def _resolve(scheme: str) -> tuple[object, str]:
    registered = _registered.get(scheme)
    if registered is not None:
        if isinstance(registered, str):
            what = f"storage backend {scheme!r}"
            return _import_path(registered, what=what, hint=None), what
        return registered, f"storage backend {scheme!r}"
    if scheme in _BUILTINS:
        path, hint = _BUILTINS[scheme]
        what = f"storage backend {scheme!r}"
        return _import_path(path, what=what, hint=hint), what
    try:
        plugins = _entry_points()
    except Exception as exc:
        raise StorageError(f"could not read the {ENTRY_POINT_GROUP} entry points: {exc}") from exc
    entry = plugins.get(scheme)
    if entry is None:
        known = ", ".join(available_schemes())
        raise StorageError(f"unknown storage scheme {scheme!r} (known schemes: {known})")
    what = f"storage plugin {scheme!r} ({entry.value}"
    dist = getattr(entry, "dist", None)
    if dist is not None:
        what += f" from distribution {dist.name!r}"
    what += ")"
    try:
        return entry.load(), what
    except Exception as exc:
        raise StorageError(f"{what} failed to load: {type(exc).__name__}: {exc}") from exc


def open_storage(url_or_instance: str | Storage, **options: object) -> Storage:
    """Open a storage from a URL, or return a storage instance unchanged.

    URLs: ``memory://``, ``sqlite:///relative.db``, ``sqlite:////absolute/path.db``,
    ``postgresql://user@host/db?schema=name`` (``postgres://`` too), or any scheme a plugin
    registers. ``options`` are passed to the backend (e.g. ``pool_max_size=8`` for Postgres).
    """
    if not isinstance(url_or_instance, str):
        if not isinstance(url_or_instance, Storage):
            raise StorageError(
                f"{type(url_or_instance).__name__} is not a Storage (missing methods of the "
                "mirakl_sync.storage.base.Storage protocol)"
            )
        if options:
            raise StorageError("options cannot be given with a storage instance")
        return url_or_instance
    url = url_or_instance
    scheme = urlsplit(url).scheme if "://" in url else ""
    if not scheme:
        raise StorageError(
            f"storage URL {url!r} has no scheme (expected e.g. 'sqlite:///state.db' or 'memory://')"
        )
    scheme = _normalise_scheme(scheme)
    target, what = _resolve(scheme)
    from_url = getattr(target, "from_url", None)
    factory = from_url if callable(from_url) else target
    if not callable(factory):
        raise StorageError(f"{what} is neither a class with from_url() nor a callable")
    try:
        storage = cast(StorageFactory, factory)(url, **options)
    except StorageError:
        raise
    except Exception as exc:
        raise StorageError(f"{what} could not open {scheme}:// storage: {exc}") from exc
    if not isinstance(storage, Storage):
        raise StorageError(f"{what} returned {type(storage).__name__}, which is not a Storage")
    return storage
