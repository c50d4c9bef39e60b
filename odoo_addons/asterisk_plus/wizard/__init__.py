from . import number_wizard
