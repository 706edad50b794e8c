import sys
from pathlib import Path

# Test the source tree's package (not an installed one).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
FIXTURES = Path(__file__).resolve().parents[3] / "Tests" / "Fixtures"
