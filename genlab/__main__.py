"""``python -m genlab ...``: see :mod:`genlab.cli`."""

import sys

from genlab.cli import main

if __name__ == "__main__":
    sys.exit(main())
