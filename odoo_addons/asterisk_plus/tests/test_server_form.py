"""What the server form shows is readable: the gateway's last event and the phonebook's rebuild as date-times
(from the strings the agent writes), and Publish the phonebook on an unreachable bus says so in words."""

import time
from datetime import datetime

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .. import bus_client as bus
from ..compat import translator
from .common import code_terms, free_port
from .test_console_ban_call import RedisCase


@tagged("post_install", "-at_install")
class TestServerFormDates(RedisCase):
    def gateway_status(self, last_event_at):
        self.redis.hset(
            bus.key(self.server, "status:ami_gateway"),
            mapping={
                "updated_ts": f"{time.time():.3f}",
                "ami_connected": "1",
                "last_event_at": last_event_at,
            },
        )
        self.server.invalidate_recordset(["last_event", "last_event_at", "agent_status"])

    def test_the_last_event_is_a_date_time(self):
        self.need_redis()
        self.gateway_status("2026-03-04T05:06:07.123456Z")
        self.assertEqual(self.server.last_event.replace(microsecond=0), datetime(2026, 3, 4, 5, 6, 7))
        self.assertEqual(self.server.agent_status, "Running")
        self.gateway_status("2026-03-04T07:06:07+02:00")  # an offset: the same instant in UTC
        self.assertEqual(self.server.last_event.replace(microsecond=0), datetime(2026, 3, 4, 5, 6, 7))
        self.gateway_status("not a time")
        self.assertFalse(self.server.last_event)  # the form still opens

    def test_the_phonebook_rebuild_is_a_date_time(self):
        self.need_redis()
        self.server.phonebook_enabled = True
        self.server.with_env(self.admin()).action_phonebook_rebuild()
        self.server.invalidate_recordset(["phonebook_rebuilt", "phonebook_updated_at", "phonebook_size"])
        self.assertTrue(self.server.phonebook_updated_at)
        self.assertIsInstance(self.server.phonebook_rebuilt, datetime)
        self.assertFalse(self.server.phonebook_bus_error)

    def test_publish_the_phonebook_on_an_unreachable_bus_says_so(self):
        port = free_port()
        self.server.write({"redis_url": f"redis://127.0.0.1:{port}/0", "phonebook_enabled": True})
        with self.assertRaises(UserError) as caught:
            self.server.with_env(self.admin()).action_phonebook_rebuild()
        self.assertIn(
            f"Cannot reach the Agent's bus (Redis) at redis://127.0.0.1:{port}/0", str(caught.exception)
        )
        self.server.invalidate_recordset(["phonebook_bus_error", "phonebook_rebuilt"])
        self.assertTrue(self.server.phonebook_bus_error)
        self.assertFalse(self.server.phonebook_rebuilt)


@tagged("post_install", "-at_install")
class TestTranslator(RedisCase):
    """compat.translator reads the module's code translations in the env's language, on 17 and 18 alike."""

    def setUp(self):
        super().setUp()
        translations = {
            "Only Asterisk administrators may %s.": "Seuls les administrateurs Asterisk peuvent %s.",
            "Running": "En marche",
        }
        code_terms(self, "fr_FR", translations)

    def test_messages_follow_the_users_language(self):
        _ = translator(self.env(context={"lang": "fr_FR"}))
        self.assertEqual(_("Running"), "En marche")
        self.assertEqual(_("Not translated %s", 1), "Not translated 1")
        self.assertEqual(translator(self.env(context={"lang": "en_US"}))("Running"), "Running")
        french = self.plain_user()(context={"lang": "fr_FR"})
        with self.assertRaises(AccessError) as caught:
            self.server.with_env(french).action_reload()
        self.assertIn("Seuls les administrateurs Asterisk peuvent", str(caught.exception))
