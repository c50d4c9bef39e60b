"""The bridge keeps one HTTP connection to Odoo open, and replaces it when Odoo closes it."""

from __future__ import annotations

import pytest

from peers.odoo_peer import OdooPeer
from services.bus import Log
from services.odoo_bridge.odoo import OdooClient, OdooDown

from .conftest import bridge_settings


def client_for(redis_url: str, prefix: str, peer: OdooPeer) -> OdooClient:
    return OdooClient(bridge_settings(redis_url, prefix, peer), Log("test"))


async def ping(client: OdooClient) -> dict:
    return await client.call("asterisk_plus.server", "bridge_ping", "pbx", "msg-1")


async def test_calls_to_odoo_share_one_connection(redis_url: str, prefix: str, odoo: OdooPeer) -> None:
    client = client_for(redis_url, prefix, odoo)
    for _ in range(5):
        assert (await ping(client))["ok"] is True
    assert odoo.requests > 5  # the login's requests and the five calls
    assert odoo.connections == 1


async def test_a_connection_odoo_closed_is_replaced_without_an_error(
    redis_url: str, prefix: str, odoo: OdooPeer
) -> None:
    client = client_for(redis_url, prefix, odoo)
    await ping(client)
    await odoo.stop()  # a restart of Odoo closes the connection the bridge holds
    await odoo.start()
    assert (await ping(client))["ok"] is True
    assert odoo.connections == 2


async def test_odoo_answering_connection_close_gets_a_new_connection_per_call(
    redis_url: str, prefix: str, odoo: OdooPeer
) -> None:
    odoo.keep_alive = False
    client = client_for(redis_url, prefix, odoo)
    for _ in range(3):
        assert (await ping(client))["ok"] is True
    assert odoo.connections == odoo.requests


async def test_odoo_down_while_a_connection_is_held_is_reported_down(
    redis_url: str, prefix: str, odoo: OdooPeer
) -> None:
    client = client_for(redis_url, prefix, odoo)
    await ping(client)
    await odoo.stop()
    with pytest.raises(OdooDown):
        await ping(client)
