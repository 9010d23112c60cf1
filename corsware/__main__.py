"""``python -m corsware``: the ``corsware`` command."""

import sys

from .cli import main

sys.exit(main())
