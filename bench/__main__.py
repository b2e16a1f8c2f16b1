"""``python -m bench``: list the benchmarks; ``python -m bench NAME [ARGS]`` runs one;
``python -m bench all`` runs each with its defaults.

A benchmark is any module ``bench/<name>.py`` (other than the helpers) runnable as
``python -m bench.<name>``; the first line of its docstring describes it. Each runs in its
own process, because a benchmark chooses its database before Django starts.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
HELPERS = {"common"}


def benchmarks() -> dict[str, str]:
    """Benchmark name → one-line description (read from the source; nothing is imported)."""
    found = {}
    for path in sorted(HERE.glob("*.py")):
        name = path.stem
        if name.startswith("_") or name in HELPERS:
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        found[name] = doc.strip().splitlines()[0] if doc.strip() else ""
    return found


def run(name: str, args: list[str]) -> int:
    print(f"\n### bench.{name}", flush=True)
    return subprocess.run([sys.executable, "-m", f"bench.{name}", *args], cwd=HERE.parent, check=False).returncode


def main(argv: list[str]) -> int:
    names = benchmarks()
    if not argv or argv[0] in {"-h", "--help", "list"}:
        print("Benchmarks (python -m bench NAME [ARGS] runs one, python -m bench all runs every one):\n")
        width = max((len(name) for name in names), default=0)
        for name, description in names.items():
            print(f"  {name.ljust(width)}  {description}")
        print("\nEach takes --help. Results: docs/benchmarks.md.")
        return 0
    if argv[0] == "all":
        return max((run(name, []) for name in names), default=0)
    name = argv[0].removeprefix("bench.")
    if name not in names:
        print(f"no benchmark {name!r}; known: {', '.join(names)}", file=sys.stderr)
        return 2
    return run(name, argv[1:])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
