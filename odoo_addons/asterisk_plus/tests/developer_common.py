"""Helpers of the developer API's tests: a callback that records its calls, the gateway's reply and the
dialplan's UserEvent as the agent writes them onto the bus."""

import json
from contextlib import contextmanager
from unittest.mock import patch

from .test_console_ban_call import RedisCase

CALLBACK_MODEL = "res.partner"
CALLBACK = "asterisk_plus_test_callback"


class DeveloperCase(RedisCase):
    def setUp(self):
        super().setUp()
        self.need_redis()
        self.as_system = self.env(user=self.system)
        self.heard = []  # (uid, result, pass_back) per callback call

    @contextmanager
    def callback(self, fails=False):
        """A public method on res.partner that records each call (and raises, if asked)."""
        heard = self.heard

        def callback(model, result, pass_back):
            heard.append((model.env.uid, result, pass_back))
            if fails:
                model.env["res.partner"].create({"name": "made by a failing callback"})
                raise ValueError("the callback's own bug")

        with patch.object(type(self.env[CALLBACK_MODEL]), CALLBACK, callback, create=True):
            yield (CALLBACK_MODEL, CALLBACK)

    def on_bus(self, stream, fields):
        entry = self.redis.xadd(f"pbxtest:asterisk1:{stream}", fields)
        return dict(fields, **{"@entry": entry})

    def gateway_reply(self, request_id, ok=True, **headers):
        """What the gateway writes on `odoo_replies` for the request (services/ami_gateway, bus.reply)."""
        fields = {
            "@type": "reply",
            "@server": "asterisk1",
            "@at": "2026-12-02T01:00:00.000000Z",
            "@id": request_id,
            "@status": "ok" if ok else "error",
            "@uid": "2",
            "@user": "admin",
            "@request_type": "action",
            **({} if ok else {"@error": "Permission denied"}),
            **(headers or {"Response": "Success", "Ping": "Pong", "Timestamp": "1796104207.123456"}),
        }
        return self.on_bus("odoo_replies", fields)

    def user_event(self, model, method, args, event_id="s1:1", **headers):
        """`UserEvent(OdooExecute, Model: ..., Method: ..., Args: ...)` as Asterisk 22 sends it: the names
        after each comma keep their leading space."""
        fields = {
            "@type": "event",
            "@server": "asterisk1",
            "@at": "2026-12-02T01:00:00.000000Z",
            "@id": event_id,
            "Event": "UserEvent",
            "Privilege": "user,all",
            "Channel": "PJSIP/trunk-00000000",
            "CallerIDNum": "0470123456",
            "Uniqueid": "1796104207.0",
            "Linkedid": "1796104207.0",
            "UserEvent": "OdooExecute",
            " Model": model,
            " Method": method,
            " Args": args if isinstance(args, str) else json.dumps(args),
            **headers,
        }
        return self.on_bus("events", fields)
