"""``python -m mlops_tools.cost``: see :mod:`mlops_tools.cost.cli`."""

import sys

from mlops_tools.cost.cli import main

sys.exit(main())
