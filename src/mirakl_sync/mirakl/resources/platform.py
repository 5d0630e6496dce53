"""Platform settings: PC01 configuration, RE01 reasons, SH21 carriers."""

from __future__ import annotations

from typing import Unpack

from mirakl_sync._http import AsyncTransport, RequestOptions, SyncTransport
from mirakl_sync.mirakl._base import ResourceBase, TransportT, spec
from mirakl_sync.mirakl.models import Carrier, PlatformConfiguration, Reason, ReasonType


def _filter(reasons: list[Reason], type: ReasonType | str | None) -> list[Reason]:
    if type is None:
        return reasons
    wanted = str(type).upper()
    return [r for r in reasons if r.type is not None and str(r.type).upper() == wanted]


class _PlatformBase(ResourceBase[TransportT]):
    """PC01 and SH21 may be called once a day at most: results are cached per client."""

    _configuration: PlatformConfiguration | None = None
    _carriers: list[Carrier] | None = None


class Platform(_PlatformBase[SyncTransport]):
    """Operator settings the integration must follow (sync)."""

    def configuration(
        self, *, refresh: bool = False, **options: Unpack[RequestOptions]
    ) -> PlatformConfiguration:
        """PC01: the platform configuration (features such as order acceptance mode and
        multi-shipment, timezone). Cached; ``refresh=True`` calls again (once a day at most)."""
        if self._configuration is None or refresh:
            request_spec = spec("PC01")
            response = self._transport.request(request_spec, options)
            self._configuration = self._parse(request_spec, response, PlatformConfiguration)
        return self._configuration

    def reasons(
        self, *, type: ReasonType | str | None = None, **options: Unpack[RequestOptions]
    ) -> list[Reason]:
        """RE01: reasons (refund, cancelation, incident...). RE01 has no type filter: ``type``
        is applied to the result (case-insensitive)."""
        request_spec = spec("RE01", budgeted=False)
        response = self._transport.request(request_spec, options)
        return _filter(self._parse_list(request_spec, response, "reasons", Reason), type)

    def carriers(
        self, *, refresh: bool = False, **options: Unpack[RequestOptions]
    ) -> list[Carrier]:
        """SH21: carriers known to the platform (codes for OR23). Cached like PC01."""
        if self._carriers is None or refresh:
            request_spec = spec("SH21")
            response = self._transport.request(request_spec, options)
            self._carriers = self._parse_list(request_spec, response, "carriers", Carrier)
        return list(self._carriers)


class AsyncPlatform(_PlatformBase[AsyncTransport]):
    """Operator settings (async twin of :class:`Platform`)."""

    async def configuration(
        self, *, refresh: bool = False, **options: Unpack[RequestOptions]
    ) -> PlatformConfiguration:
        """PC01: the platform configuration (cached)."""
        if self._configuration is None or refresh:
            request_spec = spec("PC01")
            response = await self._transport.request(request_spec, options)
            self._configuration = self._parse(request_spec, response, PlatformConfiguration)
        return self._configuration

    async def reasons(
        self, *, type: ReasonType | str | None = None, **options: Unpack[RequestOptions]
    ) -> list[Reason]:
        """RE01: reasons, optionally of one ``type``."""
        request_spec = spec("RE01", budgeted=False)
        response = await self._transport.request(request_spec, options)
        return _filter(self._parse_list(request_spec, response, "reasons", Reason), type)

    async def carriers(
        self, *, refresh: bool = False, **options: Unpack[RequestOptions]
    ) -> list[Carrier]:
        """SH21: carriers known to the platform (cached)."""
        if self._carriers is None or refresh:
            request_spec = spec("SH21")
            response = await self._transport.request(request_spec, options)
            self._carriers = self._parse_list(request_spec, response, "carriers", Carrier)
        return list(self._carriers)
