"""`pbx doctor`: walks the chain Redis -> services -> Asterisk (AMI) -> Odoo -> console -> firewall and says,
one line per check, what is wrong and what to do.

Exit code, for scripts: 0 every check OK, 1 warnings (it works, something is risky or wrong), 2 a failure
(part of the chain does not work). A check that cannot run because an earlier one failed says SKIP.
"""

from .report import FAIL, OK, SKIP, WARN, Check, exit_code
from .run import doctor

__all__ = ["FAIL", "OK", "SKIP", "WARN", "Check", "doctor", "exit_code"]
