"""``python -m sklearn_gabor``: the same as the ``sklearn-gabor`` command."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
