"""`python -m tests.fuzz_counts FOLDER`: the examples `make fuzz` tried per entry point,
summed over its processes' `tried-*.json` files."""

import json
import sys
from pathlib import Path


def main(folder: str) -> None:
    counts: dict[str, int] = {}
    for path in sorted(Path(folder).glob("tried-*.json")):
        for entry, count in json.loads(path.read_text()).items():
            counts[entry] = counts.get(entry, 0) + count
    width = max((len(e) for e in counts), default=0)
    for entry, count in sorted(counts.items()):
        print(f"{entry:<{width}}  {count:>9,} examples")


if __name__ == "__main__":
    main(sys.argv[1])
