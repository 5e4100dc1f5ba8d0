"""`python -m scaleplan.cli`: the same as the `scaleplan` command."""

import sys

from . import main

sys.exit(main())
