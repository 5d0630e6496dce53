"""A real asyncssh SFTP server on 127.0.0.1 for the publisher tests: generated host and user
keys (in a temporary directory), key authentication only, chrooted to a directory, run on its
own event loop in a background thread."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import asyncssh


class LoopbackSftpServer:
    """``with LoopbackSftpServer(tmp_path) as server:`` -> ``server.port``, ``server.root``,
    ``server.client_key`` (private key path), ``server.known_hosts`` (path)."""

    def __init__(self, base: Path, username: str = "feeds") -> None:
        self.username = username
        self.root = base / "sftp-root"
        self.root.mkdir(parents=True)
        keys = base / "keys"
        keys.mkdir()
        host_key = asyncssh.generate_private_key("ssh-ed25519")
        user_key = asyncssh.generate_private_key("ssh-ed25519")
        self.host_key_path = keys / "host_ed25519"
        host_key.write_private_key(str(self.host_key_path))
        self.client_key = keys / "user_ed25519"
        user_key.write_private_key(str(self.client_key))
        self.authorized_keys = keys / "authorized_keys"
        user_key.write_public_key(str(self.authorized_keys))
        self._host_public = host_key.export_public_key().decode().strip()
        self.known_hosts = keys / "known_hosts"
        self.port = 0
        self.logins: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: Any = None

    def _sftp_factory(self, chan: Any) -> asyncssh.SFTPServer:
        return asyncssh.SFTPServer(chan, chroot=str(self.root).encode())

    async def _start(self) -> None:
        server = self

        class _Auth(asyncssh.SSHServer):
            def begin_auth(self, username: str) -> bool:
                server.logins.append(username)
                return True

        self._server = await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[str(self.host_key_path)],
            authorized_client_keys=str(self.authorized_keys),
            sftp_factory=self._sftp_factory,
            allow_scp=False,
            server_factory=_Auth,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    def __enter__(self) -> LoopbackSftpServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {self._host_public}\n")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
