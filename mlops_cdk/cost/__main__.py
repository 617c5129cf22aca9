"""``python -m mlops_cdk.cost``: see :mod:`mlops_cdk.cost.cli`."""

import sys

from mlops_cdk.cost.cli import main

sys.exit(main())
