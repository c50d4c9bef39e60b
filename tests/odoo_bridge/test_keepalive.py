"""The bridge keeps one HTTP connection to Odoo open, and replaces it when Odoo closes it."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

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


@pytest.fixture
def tls_odoo_cert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A certificate for 127.0.0.1 that the client trusts (SSL_CERT_FILE), and the server's TLS context."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: no certificate for the HTTPS test")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def test_https_odoo_keeps_one_connection_and_checks_its_certificate(
    redis_url: str, prefix: str, tls_odoo_cert: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    peer = await OdooPeer(tls=tls_odoo_cert).start()
    try:
        client = client_for(redis_url, prefix, peer)
        for _ in range(3):
            assert (await ping(client))["ok"] is True
        assert peer.connections == 1
        # The same server, no longer trusted: the call fails as Odoo being unreachable, nothing is sent.
        monkeypatch.delenv("SSL_CERT_FILE")
        untrusting = client_for(redis_url, prefix, peer)
        with pytest.raises(OdooDown, match="CERTIFICATE_VERIFY_FAILED"):
            await ping(untrusting)
    finally:
        await peer.stop()
