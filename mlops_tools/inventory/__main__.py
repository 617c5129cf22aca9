"""``python -m mlops_tools.inventory``: see :mod:`mlops_tools.inventory.cli`."""

import sys

from mlops_tools.inventory.cli import main

sys.exit(main())
