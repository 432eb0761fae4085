"""atheris harness: `python fuzz/index_system.py [--runs N | --seconds S]` (see fuzz/targets.py, run_index_system)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import main  # noqa: E402

if __name__ == "__main__":
    main("index_system")
