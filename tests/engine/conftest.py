"""The engine tests' independent reference (`reference_net`) sits one folder up."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))
