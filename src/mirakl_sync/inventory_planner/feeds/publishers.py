"""Delivering feed files: to a directory, over SFTP, or from a small authenticated HTTP endpoint.

* :class:`DirectoryPublisher` copies each file next to its destination and renames it into
  place (``os.replace``: readers, such as :class:`StarterFeedServer`, never see half a file).
* :class:`SftpPublisher` uploads Advanced files into per-entity subdirectories (IP processes
  them at its nightly sync; upload at least an hour before). Each file goes to a ``.part`` name
  first and is renamed once complete. Needs the optional extra: ``pip install
  'mirakl-sync[sftp]'`` (asyncssh).
* :class:`StarterFeedServer` serves a directory's Starter files over HTTP ``GET`` and ``HEAD``
  (what IP uses to verify and download them) behind HTTP Basic auth. It binds to 127.0.0.1 by
  default: put it behind your TLS reverse proxy to expose it to IP.

Publishing is idempotent (Advanced names are content-addressed, Starter names are stable and
replaced atomically) and resumable: a publisher raises on the first failure and the caller keeps
its previous :class:`~mirakl_sync.inventory_planner.feeds.batch.FeedState`, so the next run
rebuilds and resends everything that was not confirmed.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import email.utils
import hmac
import os
import posixpath
import shutil
import tempfile
import threading
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, Protocol, Self

from mirakl_sync._http import Secret
from mirakl_sync.errors import ConfigurationError
from mirakl_sync.inventory_planner.feeds.batch import FeedBatch, FeedFile

__all__ = [
    "DirectoryPublisher",
    "Publisher",
    "SftpPublisher",
    "StarterFeedServer",
]

SFTP_HINT = "pip install 'mirakl-sync[sftp]'"


class Publisher(Protocol):
    """Delivers a :class:`FeedBatch`; returns where each file went, in order."""

    def publish(self, batch: FeedBatch) -> list[str]: ...


def _subdir(file: FeedFile, subdirectories: Mapping[str, str] | None) -> str:
    if file.connector == "starter":
        return ""
    if subdirectories is None:
        return file.entity
    return subdirectories.get(file.entity, file.entity)


class DirectoryPublisher:
    """Publishes into ``root`` (Advanced files under ``root/<subdir>/``, Starter files at the
    top), atomically: copy to a temporary name in the destination directory, flush to disk, then
    ``os.replace``.

    Args:
        root: destination directory (created when missing).
        subdirectories: Advanced entity -> subdirectory name (default: the entity name).
    """

    def __init__(self, root: Path | str, *, subdirectories: Mapping[str, str] | None = None):
        self.root = Path(root)
        self.subdirectories = dict(subdirectories) if subdirectories is not None else None

    def __repr__(self) -> str:
        return f"DirectoryPublisher({str(self.root)!r})"

    def publish(self, batch: FeedBatch) -> list[str]:
        done: list[str] = []
        for file in batch.files:
            target_dir = self.root / _subdir(file, self.subdirectories)
            target_dir.mkdir(parents=True, exist_ok=True)
            target = target_dir / file.name
            fd, tmp = tempfile.mkstemp(dir=target_dir, prefix=".publishing-")
            try:
                with os.fdopen(fd, "wb") as out, file.path.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            done.append(str(target))
        return done


def _asyncssh() -> ModuleType:
    try:
        import asyncssh
    except ImportError:  # pragma: no cover - exercised by monkeypatching sys.modules
        raise ConfigurationError(
            f"SFTP publishing needs the optional dependency asyncssh: {SFTP_HINT}"
        ) from None
    return asyncssh


class SftpPublisher:
    """Uploads Advanced connector files over SFTP (asyncssh).

    Args:
        host / port / username: the SFTP account IP gave you.
        password: password authentication (a ``str`` or :class:`Secret`), or
        client_keys: private key files for key authentication.
        known_hosts: a known_hosts file that must contain the server's host key. ``None``
            disables host-key verification (only for tests on loopback).
        remote_root: directory on the server holding the per-entity subdirectories.
        subdirectories: Advanced entity -> subdirectory (default: the entity name; IP's own
            directory names come with your SFTP credentials).
        connect_timeout: seconds.

    ``publish`` (sync) and ``apublish`` (async) upload every file to ``<name>.part``, then
    rename it to ``<name>`` (POSIX rename when the server supports it). A file whose final name
    already exists is skipped (names are content-addressed: same name, same content).
    """

    def __init__(
        self,
        host: str,
        *,
        username: str,
        port: int = 22,
        password: str | Secret | None = None,
        client_keys: Sequence[str | Path] | None = None,
        known_hosts: str | Path | None = "~/.ssh/known_hosts",
        remote_root: str = ".",
        subdirectories: Mapping[str, str] | None = None,
        connect_timeout: float = 30.0,
    ) -> None:
        _asyncssh()
        if password is None and not client_keys:
            raise ConfigurationError("SftpPublisher needs a password or client_keys")
        self.host = host
        self.port = port
        self.username = username
        self._password = Secret(password) if isinstance(password, str) else password
        self._client_keys = [str(Path(k).expanduser()) for k in client_keys or ()]
        self._known_hosts = (
            None if known_hosts is None else str(Path(str(known_hosts)).expanduser())
        )
        self.remote_root = remote_root
        self.subdirectories = dict(subdirectories) if subdirectories is not None else None
        self.connect_timeout = connect_timeout

    def __repr__(self) -> str:
        return f"SftpPublisher({self.username}@{self.host}:{self.port}, root={self.remote_root!r})"

    def publish(self, batch: FeedBatch) -> list[str]:
        """Upload every file (blocking)."""
        return asyncio.run(self.apublish(batch))

    async def apublish(self, batch: FeedBatch) -> list[str]:
        """Upload every file (async)."""
        asyncssh = _asyncssh()
        options: dict[str, Any] = {
            "port": self.port,
            "username": self.username,
            "known_hosts": self._known_hosts,
            "connect_timeout": self.connect_timeout,
        }
        if self._password is not None:
            options["password"] = self._password.reveal()
        if self._client_keys:
            options["client_keys"] = self._client_keys
        else:
            options["client_keys"] = None
        done: list[str] = []
        async with (
            asyncssh.connect(self.host, **options) as conn,
            conn.start_sftp_client() as sftp,
        ):
            for file in batch.files:
                folder = posixpath.join(self.remote_root, _subdir(file, self.subdirectories))
                await sftp.makedirs(folder, exist_ok=True)
                final = posixpath.join(folder, file.name)
                if await sftp.exists(final) and file.connector == "advanced":
                    done.append(final)
                    continue
                partial = final + ".part"
                await sftp.put(str(file.path), partial)
                try:
                    await sftp.posix_rename(partial, final)
                except asyncssh.SFTPOpUnsupported:
                    if await sftp.exists(final):
                        await sftp.remove(final)
                    await sftp.rename(partial, final)
                done.append(final)
        return done


# -- the Starter HTTP endpoint ------------------------------------------------------------------


class _FeedHandler(BaseHTTPRequestHandler):
    server: _FeedHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "mirakl-sync-feeds"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: no per-request stderr lines."""

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(given, self.server.expected_credentials)

    def _reply(self, status: int, message: str, headers: Mapping[str, str] = {}) -> None:
        body = message.encode("utf-8")
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _serve(self) -> None:
        if not self._authorized():
            self._reply(401, "authentication required", {"WWW-Authenticate": self.server.realm})
            return
        name = self.path.split("?", 1)[0].lstrip("/")
        if name not in self.server.names:
            self._reply(404, "not found")
            return
        path = self.server.directory / name
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            self._reply(404, "not published yet")
            return
        with handle:
            stat = os.fstat(handle.fileno())
            self.send_response(200)
            self.send_header("Content-Type", "text/csv; charset=utf-8")
            self.send_header("Content-Length", str(stat.st_size))
            self.send_header("Last-Modified", email.utils.formatdate(stat.st_mtime, usegmt=True))
            self.send_header("ETag", f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"')
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command == "GET":
                shutil.copyfileobj(handle, self.wfile, 1 << 16)

    do_GET = _serve
    do_HEAD = _serve


class _FeedHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        directory: Path,
        credentials: bytes,
        names: frozenset[str],
    ) -> None:
        self.directory = directory
        self.expected_credentials = credentials
        self.names = names
        self.realm = 'Basic realm="mirakl-sync feeds", charset="UTF-8"'
        super().__init__(address, _FeedHandler)


class StarterFeedServer:
    """Serves the Starter files of ``directory`` over HTTP (GET and HEAD) with Basic auth.

    Give Inventory Planner the URLs of :meth:`url_for` (through your HTTPS front end) and the
    username/password. Credentials are compared in constant time (``hmac.compare_digest``).
    Only the Starter file names are served; nothing else in the directory is reachable.

    Use as a context manager or call :meth:`start` / :meth:`stop`.
    """

    def __init__(
        self,
        directory: Path | str,
        *,
        username: str,
        password: str | Secret,
        host: str = "127.0.0.1",
        port: int = 0,
        names: Sequence[str] = ("products.csv", "sales_orders.csv", "purchase_orders.csv"),
    ) -> None:
        secret = password if isinstance(password, Secret) else Secret(password)
        if not username or ":" in username or not secret.reveal():
            raise ConfigurationError("a username without ':' and a non-empty password are needed")
        credentials = f"{username}:{secret.reveal()}".encode()
        self.directory = Path(directory)
        self._server = _FeedHTTPServer((host, port), self.directory, credentials, frozenset(names))
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"StarterFeedServer({self.url!r}, directory={str(self.directory)!r})"

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url_for(self, name: str) -> str:
        return f"{self.url}/{name}"

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="mirakl-sync-feeds", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
