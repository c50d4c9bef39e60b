"""Publishing onto the Agent's bus (Redis Streams) from Odoo, per docs/bus-contract.md of the Agent."""

import json
import logging
import re
import time
import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from urllib.parse import urlsplit

from odoo.exceptions import UserError

from .compat import translator

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
# Which of the agent's services reads a stream Odoo writes to: the one that did not answer.
SERVICES = {"actions": "ami_gateway"}
# A service's status hash is rewritten every few seconds while it runs: older than this, it is not running.
STATUS_FRESH_S = 30
# The socket waits this much longer than an XREAD BLOCK, so that the wait, not the socket, ends first.
SOCKET_MARGIN_S = 5

# Requests published and not yet answered: their reply stream -> the stream they went to (so the message can
# name the service that did not answer). Bounded: a request whose answer is never awaited is forgotten.
_pending = OrderedDict()


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


# redis_url -> whether it is a Redis Cluster node; asked once per Odoo worker.
_CLUSTER = {}


def _is_cluster(url):
    if redis is None:
        return False
    if url not in _CLUSTER:
        probe = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
        try:
            _CLUSTER[url] = bool(probe.info("cluster").get("cluster_enabled"))
        finally:
            probe.close()
    return _CLUSTER[url]


def _tr(server):
    """`_` in the language of the server record's env (a Detached server has none: the request's)."""
    return translator(getattr(server, "env", None))


def client(server, socket_timeout=5):
    if redis is None:
        _ = _tr(server)
        raise UserError(
            _("The Python package 'redis' is not installed on the Odoo server: pip install redis")
        )
    url = _url(server)
    options = {"decode_responses": True, "socket_timeout": socket_timeout, "socket_connect_timeout": 3}
    if _is_cluster(url):
        return redis.RedisCluster.from_url(url, **options)
    return redis.Redis.from_url(url, **options)


def service_for(stream):
    """The agent's service that reads `stream` (`commands:<service>` or `actions`)."""
    if stream.startswith("commands:"):
        return stream.split(":", 1)[1]
    return SERVICES.get(stream, "agent")


def _where(server):
    """The Redis URL without its credentials: the message goes to users who may not read the password."""
    url = urlsplit(_url(server) or "")
    host = url.hostname or "?"
    return f"{url.scheme}://{host}{f':{url.port}' if url.port else ''}{url.path}"


def unreachable(server, exc):
    _ = _tr(server)
    return UserError(
        _(
            "Cannot reach the Agent's bus (Redis) at %(where)s: %(error)s. Check the server's Redis URL "
            "and that Redis runs and accepts Odoo's connections.",
        )
        % {"where": _where(server), "error": exc}
    )


def no_answer(server, conn, stream, timeout):
    """Redis answered, the agent's service did not: say which one, and what its status hash tells."""
    _ = _tr(server)
    service = service_for(stream) if stream else "agent"
    text = _(
        "Redis (%(where)s) is reachable, but the agent's %(service)s did not answer within %(timeout)s s. "
        "Check that %(service)s runs on the agent's machine (`pbx status`, or its container).",
    ) % {"where": _where(server), "service": service, "timeout": f"{timeout:g}"}
    if service == "agent":
        return UserError(text)
    try:
        status = conn.hgetall(key(server, f"status:{service}"))
    except redis.RedisError:
        return UserError(text)
    if not status:
        more = _(
            "It has never reported on this bus (no %s): check that it uses the same Redis, prefix and "
            "server name as this form.",
            key(server, f"status:{service}"),
        )
        return UserError(f"{text} {more}")
    age = time.time() - float(status.get("updated_ts") or 0)
    if age > STATUS_FRESH_S:
        more = _(
            "Its status was last updated %(ago)s ago (%(at)s): it is not running.",
        ) % {"ago": _ago(age), "at": status.get("updated_at", "?")}
        return UserError(f"{text} {more}")
    more = _("Its status was updated %s ago, so it runs: it may be busy or stuck (see its log).", _ago(age))
    if status.get("reason"):
        more += " " + _("It says: %s", status["reason"])
    return UserError(f"{text} {more}")


def _ago(seconds):
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def key(server, name):
    # On a Redis Cluster the agent (REDIS_CLUSTER=yes) makes the server's name a hash tag, so all its keys
    # share one slot: the same here, found out from Redis itself. A single Redis keeps the plain form.
    if _is_cluster(_url(server)):
        return f"{server.bus_prefix}:{{{server.name}}}:{name}"
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


def publish_now(server, stream, fields):
    try:
        entry_id = client(server).xadd(key(server, stream), fields, maxlen=1_000_000, approximate=True)
    except redis.RedisError as exc:
        raise unreachable(server, exc) from exc
    reply_to = fields.get("@reply_to") or ""
    if reply_to.startswith("replies:"):
        _pending[reply_to] = stream
        while len(_pending) > 1000:
            _pending.popitem(last=False)
    return entry_id


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
    """The first entry of a per-request reply stream. After `timeout` seconds without one, a UserError that
    says what is true: Redis unreachable, or which service of the agent did not answer."""
    stream = _pending.pop(reply_stream, "")
    conn = client(server, socket_timeout=timeout + SOCKET_MARGIN_S)
    try:
        result = conn.xread({key(server, reply_stream): "0-0"}, block=int(timeout * 1000), count=1)
    except redis.RedisError as exc:
        raise unreachable(server, exc) from exc
    for _stream, entries in result or []:
        for _entry_id, fields in entries:
            return fields
    raise no_answer(server, conn, stream, timeout)


def on_bus(server, stream, items, names=("@id", "@type", "@json")):
    """For each item the bridge delivered, whether it is on the bus as it says: the entry `@entry` of `stream`
    exists and holds the same `names` fields (a field neither has counts as the same).

    The system account's password alone (the seed's is public) then cannot make Odoo take what only the
    agent's services may send: writing onto the bus takes Redis, not Odoo, credentials. One round trip."""
    return [
        bool(fields) and all(str(item.get(name) or "") == fields.get(name, "") for name in names)
        for item, fields in zip(items, entries(server, stream, items), strict=True)
    ]


def entries(server, stream, items):
    """For each item the bridge delivered, the fields of the bus entry `@entry` of `stream` (None when there
    is no such entry), to compare with the item. One round trip."""
    ids = [str(item.get("@entry") or "") for item in items]
    wanted = [e for e in ids if _ENTRY_ID.fullmatch(e)]
    try:
        pipe = client(server).pipeline(transaction=False)
        for entry in wanted:
            pipe.xrange(key(server, stream), entry, entry, count=1)
        found = dict(zip(wanted, pipe.execute(), strict=True))
    except redis.RedisError as exc:
        raise unreachable(server, exc) from exc
    return [(found.get(entry) or [(None, None)])[0][1] for entry in ids]
