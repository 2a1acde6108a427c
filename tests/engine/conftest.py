"""The engine tests' shared strategies (`config_strategies`) sit one folder up."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))
