import sys

from salt_lib.cli import main

sys.exit(main())
