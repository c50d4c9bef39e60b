"""The gateway's action half: AMI actions from the `actions` stream, checked, sent, and answered on the
stream each request names in `@reply_to`."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from panoramisk.actions import Action
from panoramisk.message import Message

from services.bus import Bus, Entry, Log, Status, expired, parse_iso

from . import originate
from .checks import Refused, check_action
from .config import GatewaySettings
from .connection import AmiConnection

# Requests answered lately, by `@id`: a request delivered again after its answer is answered again, not run.
ANSWERED_MAX = 10_000


@dataclass(frozen=True)
class ActionResult:
    """What an action came to, as its reply tells the requester."""

    ok: bool
    error: str = ""
    headers: dict[str, Any] = field(default_factory=dict)
    # An event list's items (a list action, an async Originate's response); None for a lone response.
    items: list[dict[str, Any]] | None = None

    @classmethod
    def refused(cls, error: str) -> ActionResult:
        return cls(ok=False, error=error)


@dataclass
class ActionRunner:
    settings: GatewaySettings
    bus: Bus
    ami: AmiConnection
    status: Status  # its `reason` says why the AMI is not connected
    log: Log
    session: str  # the gateway's: ActionIDs start with it
    answered: OrderedDict[str, ActionResult] = field(default_factory=OrderedDict)

    def __post_init__(self) -> None:
        self.allowed = self.settings.allowed_actions()

    async def handle(self, batch: list[Entry]) -> None:
        # Independent actions run side by side: a slow Originate must not hold a Ping back.
        await asyncio.gather(*(self.execute(entry) for entry in batch))

    async def execute(self, request: Entry) -> None:
        log = self.log.bind(stream=request.stream, entry=request.id, request=request.msg_id)
        done = self.answered.get(request.msg_id) if request.msg_id else None
        if done is not None:
            # Delivered again after we answered (the ack was lost): answer again, never run it twice.
            await self._reply(request, done)
            return
        result = await self.run(request, log)
        if request.msg_id:
            self.answered[request.msg_id] = result
            while len(self.answered) > ANSWERED_MAX:
                self.answered.popitem(last=False)
        if not request.reply_to:
            # Fire and forget by design (e.g. Odoo's recording and hang-up buttons); only a failure
            # deserves a warning, since nobody else will hear of it.
            if result.ok:
                log.info("action without @reply_to done")
            else:
                log.warning("action without @reply_to failed", error=result.error)
            return
        await self._reply(request, result)

    async def _reply(self, request: Entry, result: ActionResult) -> None:
        # A list action's items travel as JSON in `@json`, with their number in `@count`.
        extra = {"count": len(result.items)} if result.items is not None else {}
        await self.bus.reply(
            request, result.headers, ok=result.ok, error=result.error, payload=result.items, **extra
        )

    async def run(self, request: Entry, log: Log) -> ActionResult:
        try:
            name, headers = check_action(
                request.headers, self.allowed, self.settings.gateway_max_action_bytes
            )
        except Refused as exc:
            return self._refuse(log, str(exc))
        if expired(request):
            return self._refuse(
                log, f"deadline {request.meta.get('deadline')} passed before {name} could run"
            )
        if not self.ami.ready:
            reason = self.status.fields.get("reason") or "not connected"
            return self._refuse(log, f"AMI not connected ({reason}); {name} was not sent")
        timeout = self._timeout(name, headers, request.meta.get("deadline"))
        action = Action(headers, ActionID=f"{self.session}-{request.msg_id or uuid.uuid4().hex}")
        started = time.monotonic()
        try:
            response = await asyncio.wait_for(self.ami.send_action(action), max(timeout, 0.1))
        except TimeoutError:
            self.ami.forget(action.id)
            return self._refuse(log, f"AMI did not answer {name} within {timeout:.1f} s")
        except ConnectionError as exc:
            return self._refuse(log, f"{exc}; {name} may or may not have run")
        ms = round((time.monotonic() - started) * 1000, 1)
        result = _result(name, response)
        said = {"error": result.error} if result.error else {}
        log.info("action done", action=name, ok=result.ok, items=len(result.items or ()), ms=ms, **said)
        return result

    def _timeout(self, name: str, headers: dict[str, Any], deadline: str | None) -> float:
        timeout = self.settings.gateway_action_timeout_s
        if name.lower() == "originate":
            timeout = originate.wait_s(headers, timeout)
        if deadline:
            try:
                timeout = min(timeout, (parse_iso(deadline) - datetime.now(UTC)).total_seconds())
            except ValueError:
                pass
        return timeout

    def _refuse(self, log: Log, error: str) -> ActionResult:
        log.warning("action refused", error=error)
        return ActionResult.refused(error)


def _result(name: str, response: Message | list[Message]) -> ActionResult:
    head, rest = (response[0], response[1:]) if isinstance(response, list) else (response, None)
    ok = bool(head.success)
    error = "" if ok else (head.get("Message") or f"{name} failed")
    items = [_headers(m) for m in rest] if rest is not None else None
    headers = _headers(head)
    if ok and name.lower() == "originate" and (failed := originate.failure(items)):
        # Queued is not started: the OriginateResponse that followed says the call never began.
        ok, error = False, failed[0]
        headers.update(failed[1])
    return ActionResult(ok=ok, error=error, headers=headers, items=items)


def _headers(message: Message) -> dict[str, Any]:
    """A response as reply headers: ActionID dropped, Command output joined into one text field."""
    out: dict[str, Any] = {}
    for name, value in message.items():
        if name.lower() == "actionid" or (name == "content" and not value):
            continue
        if name.lower() == "output":
            out["Output"] = "\n".join(value) if isinstance(value, list) else value
        else:
            out[name] = value
    return out
