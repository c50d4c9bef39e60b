"""`pbx send <service> <type>`: a command entry on commands:<service>, as the service reads it."""

from __future__ import annotations

from services.bus import Bus, Entry

from .conftest import pbx


async def commands(bus: Bus, service: str) -> list[Entry]:
    stream = f"commands:{service}"
    return [Entry.from_fields(stream, i, f) for i, f in await bus.redis.xrange(bus.key(stream))]


async def test_a_bare_command(redis_url: str, prefix: str, bus: Bus) -> None:
    done = await pbx(redis_url, prefix, "send", "conf_sync", "download")
    assert done.returncode == 0, done.stderr
    [entry] = await commands(bus, "conf_sync")
    assert done.stdout == f"commands:conf_sync {entry.id}\n"
    assert entry.type == "download" and entry.server == "asterisk1"
    assert entry.meta["user"] == "pbx-cli"
    assert entry.headers == {}


async def test_fields_a_repeated_one_and_a_json_payload(redis_url: str, prefix: str, bus: Bus) -> None:
    done = await pbx(
        redis_url, prefix, "send", "guard", "ban", "address=203.0.113.9", "note=a", "note=b=c",
        "--json", '{"minutes": 0, "files": [{"name": "x.conf"}]}',
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [entry] = await commands(bus, "guard")
    assert entry.type == "ban"
    assert entry.get("address") == "203.0.113.9"
    assert entry.headers["note"] == ["a", "b=c"]
    assert entry.json() == {"minutes": 0, "files": [{"name": "x.conf"}]}


async def test_a_field_without_a_value_is_refused_and_nothing_sent(
    redis_url: str, prefix: str, bus: Bus
) -> None:
    done = await pbx(redis_url, prefix, "send", "conf_sync", "upload", "oops")
    assert done.returncode == 1
    assert done.stderr.strip() == "expected Header=Value, got 'oops'"
    assert await commands(bus, "conf_sync") == []
