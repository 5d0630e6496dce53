"""Lazy offset and seek pagination, sync and async."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from mirakl_sync._http import (
    AsyncPager,
    AsyncTransport,
    OffsetPaging,
    RequestSpec,
    SeekPaging,
    SyncPager,
    SyncTransport,
)
from mirakl_sync.errors import ResponseValidationError
from tests.http.conftest import Driver

LIST = RequestSpec(operation="OR11", method="GET", url="/api/orders", budget_key="OR11")
SEEK = RequestSpec(
    operation="TL02", method="GET", url="/api/sellerpayment/transactions_logs", budget_key="TL02"
)


def offset_server(total: int, *, link: bool = False) -> tuple[list[httpx.Request], Any]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        size = int(request.url.params["max"])
        offset = int(request.url.params["offset"])
        items = [{"n": i} for i in range(offset, min(total, offset + size))]
        headers = {}
        if link and offset + size < total:
            nxt = request.url.copy_set_param("offset", str(offset + size))
            headers["Link"] = f'<{nxt}>; rel="next"'
        return httpx.Response(200, json={"orders": items, "total_count": total}, headers=headers)

    return seen, handler


def collect(driver: Driver, pagings: list[Any], handler: Any) -> tuple[list[Any], int | None]:
    config = driver.config()
    if driver.kind == "sync":
        with SyncTransport(config, transport=httpx.MockTransport(handler)) as transport:
            pager: SyncPager[Any] = SyncPager(transport, pagings)
            return list(pager), pager.total_count

    async def run() -> tuple[list[Any], int | None]:
        async with AsyncTransport(config, transport=httpx.MockTransport(handler)) as transport:
            apager: AsyncPager[Any] = AsyncPager(transport, pagings)
            return [item async for item in apager], apager.total_count

    return asyncio.run(run())


def offset(page_size: int) -> OffsetPaging[Any]:
    return OffsetPaging(
        spec=LIST, items_key="orders", parse_item=lambda x: x["n"], page_size=page_size
    )


@pytest.mark.parametrize("link", [False, True])
def test_offset_pagination_reads_every_item_once(driver: Driver, link: bool) -> None:
    seen, handler = offset_server(25, link=link)
    items, total = collect(driver, [offset(10)], handler)
    assert items == list(range(25))
    assert total == 25
    assert [r.url.params["offset"] for r in seen] == ["0", "10", "20"]
    assert all(r.url.params["max"] == "10" for r in seen)


def test_only_the_first_page_is_budgeted() -> None:
    paging = offset(10)
    first = paging.first()
    assert first.budget_key == "OR11"
    response = httpx.Response(
        200,
        json={"orders": [{"n": 1}] * 10, "total_count": 30},
        request=httpx.Request("GET", "https://x.test/api/orders?max=10&offset=0"),
    )
    page = paging.parse(first, response)
    assert page.next_spec is not None
    assert page.next_spec.budget_key is None


def test_empty_page_ends_the_listing(driver: Driver) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"orders": [], "total_count": 50})

    items, _ = collect(driver, [offset(10)], handler)
    assert items == []


def test_seek_pagination_sends_only_the_token(driver: Driver) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        token = request.url.params.get("page_token")
        if token is None:
            return httpx.Response(200, json={"data": [1, 2], "next_page_token": "p2"})
        if token == "p2":
            return httpx.Response(200, json={"data": [3], "next_page_token": "p3"})
        return httpx.Response(200, json={"data": [4], "previous_page_token": "p2"})

    paging = SeekPaging(spec=SEEK, items_key="data", parse_item=lambda x: x, page_size=2)
    items, _ = collect(driver, [paging], handler)
    assert items == [1, 2, 3, 4]
    assert dict(seen[0].url.params) == {"limit": "2"}
    assert [list(r.url.params.multi_items()) for r in seen[1:]] == [
        [("page_token", "p2")],
        [("page_token", "p3")],
    ]


def test_pagination_loop_is_detected(driver: Driver) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [1], "next_page_token": "same"})

    paging = SeekPaging(spec=SEEK, items_key="data", parse_item=lambda x: x)
    with pytest.raises(ResponseValidationError, match="pagination loop"):
        collect(driver, [paging], handler)


def test_pager_is_lazy() -> None:
    seen, handler = offset_server(30)
    driver = Driver("sync")
    with SyncTransport(driver.config(), transport=httpx.MockTransport(handler)) as transport:
        pager = SyncPager(transport, [offset(10)])
        assert seen == []
        iterator = iter(pager)
        assert next(iterator) == 0
        assert len(seen) == 1
        for _ in range(9):
            next(iterator)
        assert len(seen) == 1
        next(iterator)
        assert len(seen) == 2


def test_several_listings_are_chained(driver: Driver) -> None:
    _, handler = offset_server(3)
    items, _ = collect(driver, [offset(2), offset(5)], handler)
    assert items == [0, 1, 2, 0, 1, 2]


def test_non_json_page_is_a_validation_error(driver: Driver) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<html>maintenance</html>")

    with pytest.raises(ResponseValidationError, match="not JSON"):
        collect(driver, [offset(10)], handler)


def test_link_mode_stops_without_next_and_keeps_shop_id_once(driver: Driver) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        offset = int(request.url.params["offset"])
        links = [
            f'<{request.url.copy_set_param("offset", str(max(0, offset - 2)))}>; rel="previous"'
        ]
        if offset == 0:
            links.append(f'<{request.url.copy_set_param("offset", "2")}>; rel="next"')
        body = {"orders": [{"n": offset}, {"n": offset + 1}], "total_count": 99}
        return httpx.Response(200, json=body, headers={"Link": ", ".join(links)})

    config = driver.config(default_params=(("shop_id", "7"),))
    paging = offset(2)
    if driver.kind == "sync":
        with SyncTransport(config, transport=httpx.MockTransport(handler)) as transport:
            items = list(SyncPager(transport, [paging]))
    else:

        async def run() -> list[Any]:
            async with AsyncTransport(config, transport=httpx.MockTransport(handler)) as t:
                return [i async for i in AsyncPager(t, [paging])]

        items = asyncio.run(run())
    # total_count says 99, but the server's Link headers end the listing after two pages.
    assert items == [0, 1, 2, 3]
    assert [r.url.params.get_list("shop_id") for r in seen] == [["7"], ["7"]]
