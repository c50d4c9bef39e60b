"""The hand-packed XADDs write what redis-py's own XADD writes, whatever the text."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.bus import resp
from tests.bus.helpers import make_bus

# Any text a header can hold, line breaks and non-ASCII included (RESP counts bytes, not characters).
_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
_fields = st.dictionaries(_text.filter(bool), _text, min_size=1, max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(st.tuples(st.sampled_from(["events", "security"]), _fields), min_size=1, max_size=8))
async def test_packed_entries_read_back_as_written(
    redis_url: str, prefix: str, batch: list[tuple[str, dict[str, str]]]
) -> None:
    bus = make_bus(redis_url, prefix)
    await bus.redis.delete(bus.key("events"), bus.key("security"))
    ids = await bus.publish_many(batch)
    assert len(ids) == len(batch)
    for stream in ("events", "security"):
        stored = [fields for _, fields in await bus.redis.xrange(bus.key(stream))]
        assert stored == [fields for s, fields in batch if s == stream]
    await bus.close()


def test_a_command_counts_bytes_not_characters() -> None:
    assert resp.command("ECHO", "é€") == "*2\r\n$4\r\nECHO\r\n$5\r\né€\r\n"
