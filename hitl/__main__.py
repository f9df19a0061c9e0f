"""`python -m hitl ...` runs the `hitl` command (where the console script is not on PATH, or to pick the Python).

    python -m hitl --help
"""

import sys

from hitl.cli.main import main

sys.exit(main())
