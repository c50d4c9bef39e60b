from . import ban_wizard, number_wizard
