"""Publishing onto the Agent's bus (Redis Streams) from Odoo, per docs/bus-contract.md of the Agent."""

import json
import logging
import re
import uuid
from datetime import UTC, datetime

from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

try:
    import redis
except ImportError:  # the module installs without it; publishing then says what is missing
    redis = None


def now_iso():
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id():
    return uuid.uuid4().hex


# A stream entry id as Redis writes it: milliseconds-sequence.
_ENTRY_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")


def _url(server):
    # redis_url may hold Redis's password and is for Asterisk admins only; publishing on behalf of others
    # (a click-to-call, the form's status) reads it all the same.
    return server.sudo().redis_url if hasattr(server, "sudo") else server.redis_url


class Detached:
    """What the bus needs of a server record, read while its cursor is open: postcommit hooks run after it
    committed, where the record may not be readable any more."""

    def __init__(self, redis_url, bus_prefix, name):
        self.redis_url, self.bus_prefix, self.name = redis_url, bus_prefix, name


def detached(server):
    return Detached(_url(server), server.bus_prefix, server.name)


def client(server):
    if redis is None:
        raise UserError("The Python package 'redis' is not installed on the Odoo server: pip install redis")
    return redis.Redis.from_url(
        _url(server), decode_responses=True, socket_timeout=5, socket_connect_timeout=3
    )


def key(server, name):
    return f"{server.bus_prefix}:{server.name}:{name}"


def fields_for(server, type_, headers=None, payload=None, **meta):
    fields = {
        "@type": type_,
        "@server": server.name,
        "@at": now_iso(),
        "@id": meta.pop("id", None) or new_id(),
    }
    for name, value in meta.items():
        if value is not None and value is not False:
            fields["@" + name] = str(value)
    if payload is not None:
        fields["@json"] = json.dumps(payload, ensure_ascii=False)
    for name, value in (headers or {}).items():
        if isinstance(value, list | tuple):  # a repeated header: Name, Name#2, Name#3...
            for n, one in enumerate(value, 1):
                fields[name if n == 1 else f"{name}#{n}"] = str(one)
            continue
        fields[name] = "" if value is None or value is False else str(value)
    return fields


def _unreachable(server, exc):
    return UserError(f"Cannot reach the Agent's bus ({server.name}): {exc}")


def publish_now(server, stream, fields):
    try:
        return client(server).xadd(key(server, stream), fields, maxlen=1_000_000, approximate=True)
    except redis.RedisError as exc:
        raise _unreachable(server, exc) from exc


def publish_after_commit(env, server, stream, fields):
    """XADD once the transaction has committed: a rolled-back action sends nothing."""
    values = dict(fields)
    s = detached(server)

    def send():
        try:
            publish_now(s, stream, values)
        except UserError as exc:
            _logger.error("bus publish failed after commit: %s (%s %s)", exc, stream, values.get("@type"))

    env.cr.postcommit.add(send)
    return values["@id"]


def wait_reply(server, reply_stream, timeout):
    """The first entry of a per-request reply stream, or None after `timeout` seconds."""
    try:
        result = client(server).xread({key(server, reply_stream): "0-0"}, block=int(timeout * 1000), count=1)
    except redis.RedisError as exc:
        raise _unreachable(server, exc) from exc
    for _stream, entries in result or []:
        for _entry_id, fields in entries:
            return fields
    return None


def on_bus(server, stream, items, names=("@id", "@type", "@json")):
    """For each item the bridge delivered, whether it is on the bus as it says: the entry `@entry` of `stream`
    exists and holds the same `names` fields (a field neither has counts as the same).

    The system account's password alone (the seed's is public) then cannot make Odoo take what only the
    agent's services may send: writing onto the bus takes Redis, not Odoo, credentials. One round trip."""
    entries = [str(item.get("@entry") or "") for item in items]
    wanted = [e for e in entries if _ENTRY_ID.fullmatch(e)]
    try:
        pipe = client(server).pipeline(transaction=False)
        for entry in wanted:
            pipe.xrange(key(server, stream), entry, entry, count=1)
        found = dict(zip(wanted, pipe.execute(), strict=True))
    except redis.RedisError as exc:
        raise _unreachable(server, exc) from exc
    matches = []
    for item, entry in zip(items, entries, strict=True):
        rows = found.get(entry) or []
        fields = rows[0][1] if rows else None
        matches.append(
            bool(fields) and all(str(item.get(name) or "") == fields.get(name, "") for name in names)
        )
    return matches
