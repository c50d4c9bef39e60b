from . import test_asterisk_plus
