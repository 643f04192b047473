"""`python -m iom.tools.supervision ...` (the command line is in cli.py)."""

import sys

from iom.tools.supervision.cli import main

sys.exit(main())
