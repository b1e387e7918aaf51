"""`python -m benchmark.cli`: the `sommelier` command without the console script."""

import sys

from .main import main

sys.exit(main())
