from . import test_asterisk_plus, test_console_ban_call, test_security
