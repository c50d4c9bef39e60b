"""What a button says when its answer does not come: Redis unreachable, or which of the agent's services did
not answer and what its status hash tells. Against the machine's Redis (127.0.0.1:6379; skipped without it),
under a prefix of the test's own."""

import threading
import time
import uuid
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from .. import bus_client as bus
from ..models import server as server_module
from .common import free_port

try:
    import redis
except ImportError:
    redis = None

URL = "redis://127.0.0.1:6379/0"


@tagged("post_install", "-at_install")
class TestBusMessages(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.redis = None
        if redis is not None:
            client = redis.Redis.from_url(URL, decode_responses=True, socket_connect_timeout=1)
            try:
                client.ping()
                cls.redis = client
            except redis.RedisError:
                pass
        cls.prefix = f"pbxtest{uuid.uuid4().hex[:8]}"
        cls.server = cls.env.ref("asterisk_plus.server_asterisk1")
        cls.server.write({"redis_url": URL, "bus_prefix": cls.prefix})

    def setUp(self):
        super().setUp()
        if self.redis is None:
            self.skipTest("no Redis at 127.0.0.1:6379 (or no redis package)")
        self.addCleanup(self._drop_keys)

    def _drop_keys(self):
        keys = list(self.redis.scan_iter(f"{self.prefix}:*"))
        if keys:
            self.redis.delete(*keys)

    def _status(self, service, age_s, **fields):
        now = time.time() - age_s
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        mapping = {"service": service, "updated_ts": f"{now:.3f}", "updated_at": stamp, **fields}
        self.redis.hset(bus.key(self.server, f"status:{service}"), mapping=mapping)

    def _ask(self, stream, timeout=1):
        reply_to = f"replies:odoo.{bus.new_id()}"
        fields = bus.fields_for(self.server, "action", {"Action": "Ping"}, reply_to=reply_to)
        bus.publish_now(self.server, stream, fields)
        return bus.wait_reply(self.server, reply_to, timeout)

    def _message(self, stream, timeout=1):
        with self.assertRaises(UserError) as caught:
            self._ask(stream, timeout)
        return str(caught.exception)

    def test_a_service_that_never_ran_on_this_bus_is_named(self):
        text = self._message("actions")
        self.assertIn(
            f"Redis ({URL}) is reachable, but the agent's ami_gateway did not answer within 1 s", text
        )
        self.assertIn("`pbx status`", text)
        self.assertIn(
            f"It has never reported on this bus (no {self.prefix}:asterisk1:status:ami_gateway)", text
        )

    def test_a_stopped_service_is_named_with_the_age_of_its_last_status(self):
        self._status("odoo_bridge", 600)
        text = self._message("commands:odoo_bridge")
        self.assertIn("the agent's odoo_bridge did not answer within 1 s", text)
        self.assertIn("Its status was last updated 10 min ago", text)
        self.assertIn("it is not running", text)

    def test_a_running_but_silent_service_is_said_to_run(self):
        self._status("conf_sync", 2, reason="Odoo unreachable: connection refused")
        text = self._message("commands:conf_sync")
        self.assertIn("the agent's conf_sync did not answer within 1 s", text)
        self.assertIn("so it runs: it may be busy or stuck", text)
        self.assertIn("It says: Odoo unreachable: connection refused", text)

    def test_an_unreachable_redis_is_said_with_the_url_to_check(self):
        port = free_port()
        self.server.redis_url = f"redis://127.0.0.1:{port}/0"
        text = self._message("actions")
        self.assertIn(f"Cannot reach the Agent's bus (Redis) at redis://127.0.0.1:{port}/0", text)
        self.assertIn("Check the server's Redis URL", text)

    def test_the_message_never_shows_the_redis_password(self):
        """Any user who presses a button may read it; redis_url is for Asterisk administrators only."""
        port = free_port()
        self.server.redis_url = f"redis://agent:s3cret-pass@127.0.0.1:{port}/0"
        text = self._message("actions")
        self.assertIn(f"redis://127.0.0.1:{port}/0", text)
        self.assertNotIn("s3cret-pass", text)

    def test_an_answer_slower_than_the_old_socket_timeout_still_arrives(self):
        """The socket used to give up after 5 s while the button waited 10: "Timeout reading from socket"."""
        reply_to = f"replies:odoo.{bus.new_id()}"
        bus.publish_now(self.server, "actions", bus.fields_for(self.server, "action", reply_to=reply_to))
        answer = threading.Timer(
            6, lambda: self.redis.xadd(bus.key(self.server, reply_to), {"@status": "ok", "Ping": "Pong"})
        )
        answer.start()
        self.addCleanup(answer.cancel)
        self.assertEqual(bus.wait_reply(self.server, reply_to, 8)["Ping"], "Pong")

    def test_the_ping_button_names_the_gateway(self):
        self._status("ami_gateway", 3600 * 5)
        with patch.object(server_module, "BUTTON_TIMEOUT", 1), self.assertRaises(UserError) as caught:
            self.server.action_ping()
        text = str(caught.exception)
        self.assertIn("the agent's ami_gateway did not answer within 1 s", text)
        self.assertIn("Its status was last updated 5 h ago", text)
