"""Entry point of `python -m praetor.executor`."""

import sys

from praetor.executor.program import main

sys.exit(main())
