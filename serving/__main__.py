"""`python -m serving`: the same as the `zoo-serve` console script."""

import sys

from serving.main import main

sys.exit(main())
