"""Serving speed: simulated raters fetch a battle and vote in a loop against a real loopback server.

python benchmarks/serve_bench.py --raters 20 --seconds 60 [--api json|gradio]

The same machinery as load_test.py (a `paddock serve` subprocess on a free port, raters on
keep-alive connections, acknowledged votes checked in DuckDB afterwards) with the speed target's
load: 20 raters for 60 s.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_test import measure, parse_args  # noqa: E402


def main() -> None:
    args = parse_args({"raters": 20, "seconds": 60.0}, __doc__)
    result = measure(args.raters, args.seconds, args.api, args.think_ms / 1000, args.max_votes)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
