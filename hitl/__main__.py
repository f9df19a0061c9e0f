"""`python -m hitl ...` runs the `hitl` command (where the console script is not on PATH, or to pick the Python).

python -m hitl --help
"""

import sys

from hitl.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
