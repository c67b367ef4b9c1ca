import sys
from pathlib import Path

# the report tests' shared helper (tests/report_demo.py) lives one folder up
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
