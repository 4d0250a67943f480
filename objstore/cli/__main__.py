import sys

from objstore.cli import main

sys.exit(main())
