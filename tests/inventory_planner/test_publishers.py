"""Publishers against real servers on loopback: an asyncssh SFTP server started here, and the
Starter HTTP endpoint (GET/HEAD with Basic auth)."""

from __future__ import annotations

import asyncio
import builtins
import sys
from pathlib import Path

import httpx
import pytest

from mirakl_sync.errors import ConfigurationError
from mirakl_sync.inventory_planner.feeds import (
    SftpPublisher,
    StarterFeedServer,
    build_advanced_feed,
    build_starter_feed,
)
from tests.inventory_planner import feed_data as data
from tests.inventory_planner.sftp_server import LoopbackSftpServer


def test_sftp_publishing_to_a_real_server(tmp_path: Path) -> None:
    batch = build_advanced_feed(
        tmp_path / "stage",
        as_of=data.AS_OF,
        warehouses=data.warehouses(),
        products=data.products(),
        stock=data.stock(),
        sales=data.sales(),
    )
    with LoopbackSftpServer(tmp_path) as server:
        publisher = SftpPublisher(
            "127.0.0.1",
            port=server.port,
            username=server.username,
            client_keys=[server.client_key],
            known_hosts=server.known_hosts,
            remote_root="/incoming",
            subdirectories={"variant_warehouse": "variant_warehouses"},
        )
        remote = publisher.publish(batch)
        assert remote[2].startswith("/incoming/variant_warehouses/")
        for file in batch.files:
            sub = "variant_warehouses" if file.entity == "variant_warehouse" else file.entity
            uploaded = server.root / "incoming" / sub / file.name
            assert uploaded.read_bytes() == file.path.read_bytes()
        assert not list(server.root.rglob("*.part"))
        # Publishing the same batch again is a no-op (same names, same content).
        assert asyncio.run(publisher.apublish(batch)) == remote
        assert len(list(server.root.rglob("*.csv"))) == 4
        assert server.logins == ["feeds", "feeds"]


def test_sftp_refuses_an_unknown_host_key(tmp_path: Path) -> None:
    batch = build_advanced_feed(tmp_path / "stage", as_of=data.AS_OF, sales=data.sales())
    with LoopbackSftpServer(tmp_path) as server:
        wrong = tmp_path / "known_hosts_wrong"
        wrong.write_text("")
        publisher = SftpPublisher(
            "127.0.0.1",
            port=server.port,
            username=server.username,
            client_keys=[server.client_key],
            known_hosts=wrong,
        )
        with pytest.raises(Exception, match=r"(?i)host key"):
            publisher.publish(batch)
        assert not list(server.root.rglob("*.csv"))


def test_sftp_needs_credentials_and_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="password or client_keys"):
        SftpPublisher("h", username="u")
    real_import = builtins.__import__

    def no_asyncssh(name: str, *args: object, **kwargs: object) -> object:
        if name == "asyncssh":
            raise ImportError("no asyncssh")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.delitem(sys.modules, "asyncssh", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_asyncssh)
    with pytest.raises(ConfigurationError, match=r"pip install 'mirakl-sync\[sftp\]'"):
        SftpPublisher("h", username="u", password="p")


def test_starter_endpoint_serves_get_and_head_behind_basic_auth(tmp_path: Path) -> None:
    feed = build_starter_feed(
        tmp_path / "feed", products=data.products(), stock={"SKU-1": 7}, sales=data.sales()
    )
    with StarterFeedServer(tmp_path / "feed", username="ip", password="s3cret-pw") as server:
        assert server.url.startswith("http://127.0.0.1:")
        with httpx.Client(auth=("ip", "s3cret-pw")) as client:
            head = client.head(server.url_for("sales_orders.csv"))
            assert head.status_code == 200
            assert head.content == b""
            assert head.headers["content-type"].startswith("text/csv")
            assert int(head.headers["content-length"]) == feed.files[1].path.stat().st_size
            got = client.get(server.url_for("sales_orders.csv"))
            assert got.content == feed.files[1].path.read_bytes()
            assert client.get(server.url_for("purchase_orders.csv")).status_code == 404
            assert client.get(f"{server.url}/../secret.csv").status_code == 404
            assert client.get(f"{server.url}/.writing-x.csv").status_code == 404
        for auth in (None, ("ip", "wrong"), ("other", "s3cret-pw")):
            denied = httpx.get(server.url_for("products.csv"), auth=auth)
            assert denied.status_code == 401
            assert denied.headers["www-authenticate"].startswith("Basic")
        garbage = httpx.get(server.url_for("products.csv"), headers={"Authorization": "Basic !!"})
        assert garbage.status_code == 401
    with pytest.raises(ConfigurationError):
        StarterFeedServer(tmp_path, username="a:b", password="x")
