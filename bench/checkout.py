"""Imported first by the benchmarks: this checkout's packages come before those of the
checkout the shared virtualenv was installed from (an editable install of another one)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
