import sys

from opentrace.cli import main

sys.exit(main())
