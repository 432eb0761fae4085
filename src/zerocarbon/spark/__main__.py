import sys

from zerocarbon.spark import main

sys.exit(main())
