"""``python -m objstore``: the same command line as the ``objstore`` script."""

import sys

from objstore.cli import main

sys.exit(main())
