"""The manual ban and the console history, in a real Odoo.

Publishing is checked against a real redis-server started for the class (skipped when there is none): a
command is only queued on `cr.postcommit` while the transaction runs, and reaches the stream when it commits
(the test runs the postcommit hooks itself, as a commit would)."""

import json
import shutil
import subprocess
import time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import ServerCase, free_port, pbx_user

try:
    import redis
except ImportError:
    redis = None


class RedisCase(ServerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.redis = None
        binary = shutil.which("redis-server")
        if binary and redis is not None:
            port = free_port()
            process = subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            cls.addClassCleanup(process.wait, 10)
            cls.addClassCleanup(process.terminate)
            url = f"redis://127.0.0.1:{port}/0"
            client = redis.Redis.from_url(url, decode_responses=True)
            for _attempt in range(100):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            cls.redis = client
            cls.server.write({"redis_url": url, "bus_prefix": "pbxtest"})
        # A database in use may record its calls: the tests' calls publish only what each test asks for.
        cls.server.write({"recording_policy": "none", "recordings_dir": "/var/spool/asterisk/monitor"})

    def setUp(self):
        super().setUp()
        self.env.cr.postcommit.clear()  # nothing queued by an earlier test counts here
        self._users = {}

    def need_redis(self):
        if self.redis is None:
            self.skipTest("no redis-server (or no redis package) here")
        self.redis.flushdb()

    def entries(self, stream):
        return [fields for _id, fields in self.redis.xrange(f"pbxtest:asterisk1:{stream}")]

    def commit_hooks(self):
        """What a commit does after it: run the postcommit hooks (this transaction never commits)."""
        self.env.cr.postcommit.run()

    def _user(self, login, group):
        if login not in self._users:
            self._users[login] = self.env["res.users"].create(
                {"name": login, "login": login, "groups_id": [(6, 0, [self.env.ref(group).id])]}
            )
        return self.env(user=self._users[login])

    def agent(self, login, extension, phones, *groups, **settings):
        """An Asterisk user (of these groups too) at `extension` with these phones (see common.pbx_user)."""
        user = self._user(login, "asterisk_plus.group_user").user
        if groups:
            user.groups_id = [(4, self.env.ref(group).id) for group in groups]
        return pbx_user(self.env, user, self.server, extension, phones, **settings)

    def last_call(self, user):
        """The user's newest call."""
        return self.env["asterisk_plus.call"].search([("user_id", "=", user.id)], order="id desc", limit=1)

    def admin(self):
        return self._user("pbxadmin", "asterisk_plus.group_admin")

    def plain_user(self):
        return self._user("pbxuser", "asterisk_plus.group_user")


@tagged("post_install", "-at_install")
class TestManualBan(RedisCase):
    def test_the_ban_reaches_the_guard_only_after_commit(self):
        self.need_redis()
        env = self.admin()
        wizard = (
            env["asterisk_plus.ban_wizard"]
            .with_context(active_model="asterisk_plus.server", active_id=self.server.id)
            .create({"address": " 203.0.113.9 ", "duration": 30, "reason": "scanner"})
        )
        self.assertEqual(wizard.server_id, self.server)
        wizard.action_ban()
        self.assertEqual(self.entries("commands:guard"), [])  # nothing before the commit
        self.commit_hooks()
        [entry] = self.entries("commands:guard")
        self.assertEqual(
            {
                k: entry[k]
                for k in ("@type", "@server", "@user", "@uid", "@reply_to", "address", "reason", "bantime")
            },
            {
                "@reply_to": "to_odoo",  # a ban the guard refuses is told to the admin
                "@type": "ban",
                "@server": "asterisk1",
                "@user": "pbxadmin",
                "@uid": str(env.uid),
                "address": "203.0.113.9",
                "reason": "scanner",
                "bantime": "1800",
            },
        )
        self.assertTrue(entry["@id"] and entry["@at"].endswith("Z"))

    def test_zero_minutes_is_a_permanent_ban_and_ipv4_mapped_addresses_are_normalized(self):
        self.need_redis()
        wizard = self.admin()["asterisk_plus.ban_wizard"].create(
            {"server_id": self.server.id, "address": "::ffff:198.51.100.4", "duration": 0}
        )
        wizard.action_ban()
        self.commit_hooks()
        [entry] = self.entries("commands:guard")
        self.assertEqual((entry["address"], entry["bantime"]), ("198.51.100.4", "0"))
        self.assertEqual(entry["reason"], "banned by pbxadmin")

    def test_a_rolled_back_ban_sends_nothing(self):
        self.need_redis()
        wizard = self.admin()["asterisk_plus.ban_wizard"].create(
            {"server_id": self.server.id, "address": "203.0.113.10", "duration": 5}
        )
        wizard.action_ban()
        self.env.cr.postcommit.clear()  # what a rollback does
        self.commit_hooks()
        self.assertEqual(self.entries("commands:guard"), [])

    def test_bad_addresses_networks_and_durations_the_guard_refuses_are_refused(self):
        wizards = self.admin()["asterisk_plus.ban_wizard"]
        for address in ("not-an-ip", "10.0.0.0/8", "300.1.2.3", ""):
            with self.subTest(address=address), self.assertRaises(ValidationError):
                wizards.create({"server_id": self.server.id, "address": address or " ", "duration": 5})
        for minutes in (-1, 366 * 24 * 60 + 1):
            with self.subTest(minutes=minutes), self.assertRaises(ValidationError):
                wizards.create({"server_id": self.server.id, "address": "203.0.113.1", "duration": minutes})
        longest = wizards.create(
            {"server_id": self.server.id, "address": "203.0.113.1", "duration": 366 * 24 * 60}
        )
        self.assertEqual(longest.duration, 527040)

    def test_an_address_the_access_list_allows_is_not_sent(self):
        self.need_redis()
        self.env["asterisk_plus.access_list"].create(
            {"address": "192.0.2.0/24", "action": "allow", "server_id": self.server.id}
        )
        self.env.cr.postcommit.clear()  # the access list itself was queued for the guard
        wizard = self.admin()["asterisk_plus.ban_wizard"].create(
            {"server_id": self.server.id, "address": "192.0.2.55", "duration": 5}
        )
        with self.assertRaisesRegex(UserError, "allowed by the access list"):
            wizard.action_ban()
        self.commit_hooks()
        self.assertEqual(self.entries("commands:guard"), [])

    def test_only_admins_may_ban(self):
        with self.assertRaises(AccessError):
            self.plain_user()["asterisk_plus.ban_wizard"].create(
                {"server_id": self.server.id, "address": "203.0.113.11", "duration": 5}
            )
        wizard = self.env["asterisk_plus.ban_wizard"].create(
            {"server_id": self.server.id, "address": "203.0.113.11", "duration": 5}
        )
        with self.assertRaises(AccessError):
            wizard.with_user(self.plain_user().user).action_ban()


@tagged("post_install", "-at_install")
class TestConsoleHistory(RedisCase):
    def _item(self, entry_id, command="core show channels", **extra):
        item = {
            "@type": "console.command",
            "@id": entry_id,
            "@uid": str(self.env.ref("base.user_admin").id),
            "@user": "admin",
            "@server": "asterisk1",
            "@at": "2026-11-24T20:00:00.123456Z",
            "command": command,
            "status": "ok",
            "output": "Channel  Location  State\n" + "x" * 20000,
        }
        item.update(extra)
        return item

    def test_commands_are_stored_once_per_entry_id(self):
        before = self.server.console_command_count  # a used database may hold other commands
        commands = self.env(user=self.system)["asterisk_plus.console_command"]
        batch = [self._item("1732478400123-0"), self._item("1732478400123-0"), self._item("1732478400124-0")]
        results = commands.bridge_on_commands("asterisk1", batch)
        self.assertEqual([r["status"] for r in results], ["ok", "duplicate", "ok"])
        again = commands.bridge_on_commands("asterisk1", [self._item("1732478400124-0")])
        self.assertEqual(again, [{"status": "duplicate"}])
        ours = ["1732478400123-0", "1732478400124-0"]  # a used database may hold other commands
        stored = self.env["asterisk_plus.console_command"].search(
            [("server_id", "=", self.server.id), ("entry_id", "in", ours)]
        )
        self.assertEqual(len(stored), 2)
        record = stored.filtered(lambda r: r.entry_id == "1732478400123-0")
        self.assertEqual(record.user_id, self.env.ref("base.user_admin"))
        self.assertEqual((record.login, record.command, record.status), ("admin", "core show channels", "ok"))
        self.assertEqual(str(record.at), "2026-11-24 20:00:00")
        self.assertEqual(len(record.output), len(batch[0]["output"]))  # long output kept whole
        self.server.invalidate_recordset(["console_command_count"])
        self.assertEqual(self.server.console_command_count, before + 2)

    def test_malformed_items_are_rejected_one_by_one(self):
        commands = self.env(user=self.system)["asterisk_plus.console_command"]
        results = commands.bridge_on_commands(
            "asterisk1",
            [
                self._item("a-1", status="maybe"),
                self._item("", command="core show version"),
                self._item("a-2", **{"@at": "yesterday"}),
                self._item("a-3", status="error", output="No such command 'foo'", command="foo"),
            ],
        )
        self.assertEqual([r["status"] for r in results], ["error", "error", "error", "ok"])
        self.assertTrue(all(r["error"] for r in results[:3]))
        failed = self.env["asterisk_plus.console_command"].search([("entry_id", "=", "a-3")])
        self.assertEqual((failed.status, failed.output), ("error", "No such command 'foo'"))

    def test_only_the_servers_system_account_may_report_commands(self):
        other = self.env["res.users"].create(
            {"name": "Other", "login": "other", "groups_id": [(6, 0, [self.env.ref("base.group_portal").id])]}
        )
        with self.assertRaises(AccessError):
            self.env(user=other)["asterisk_plus.console_command"].bridge_on_commands(
                "asterisk1", [self._item("b-1")]
            )
        self.assertFalse(self.env["asterisk_plus.console_command"].search([("entry_id", "=", "b-1")]))

    def test_the_history_is_read_only_and_for_admins(self):
        self.env(user=self.system)["asterisk_plus.console_command"].bridge_on_commands(
            "asterisk1", [self._item("c-1")]
        )
        admin = self.admin()
        record = admin["asterisk_plus.console_command"].search([("entry_id", "=", "c-1")])
        self.assertEqual(record.command, "core show channels")
        with self.assertRaises(AccessError):
            record.write({"command": "core restart now"})
        with self.assertRaises(AccessError):
            record.unlink()
        with self.assertRaises(AccessError):
            self.plain_user()["asterisk_plus.console_command"].search([])
        action = self.server.with_env(admin).action_console_history()
        self.assertEqual(action["res_model"], "asterisk_plus.console_command")
        self.assertEqual(action["domain"], [("server_id", "=", self.server.id)])

    def test_the_console_button_leaves_a_one_minute_token_for_the_console(self):
        self.need_redis()
        admin = self.admin()
        self.server.console_url = "https://pbx.example.com:48001/"
        action = self.server.with_env(admin).action_console()
        self.assertEqual((action["type"], action["target"]), ("ir.actions.act_url", "new"))
        prefix = "https://pbx.example.com:48001/?token="
        self.assertTrue(action["url"].startswith(prefix), action["url"])
        token = action["url"][len(prefix) :]
        key = f"pbxtest:asterisk1:console:token:{token}"
        data = json.loads(self.redis.get(key))
        self.assertEqual(
            {k: data[k] for k in ("uid", "login", "server")},
            {"uid": admin.uid, "login": "pbxadmin", "server": "asterisk1"},
        )
        self.assertAlmostEqual(data["exp"], time.time() + 60, delta=30)
        self.assertTrue(0 < self.redis.ttl(key) <= 60)
        with self.assertRaises(AccessError):
            self.server.with_env(self.plain_user()).action_console()
