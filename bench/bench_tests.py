"""How much of the test suite needs the ONNX models, and how long the suite takes (issue 15).

Runs the whole suite twice in the tree given (default: this checkout): once as it is (wall time,
tests passed), once with the PP-OCRv6 models hidden (a ``rapidocr`` package without its models
first on ``PYTHONPATH``, inherited by every subprocess the tests start): every test that fails or
errors then needs the models, directly or through a subprocess.

    .venv/bin/python bench/bench_tests.py                     # this checkout
    .venv/bin/python bench/bench_tests.py --tree /tmp/before  # another checkout (e.g. a git worktree)

Both runs use ``-p no:cacheprovider`` and the same interpreter; the machine should be otherwise idle
for the wall times to mean anything.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(tree: Path, env: dict[str, str], junit: Path, extra: list[str]) -> tuple[float, dict[str, set[str]]]:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", *extra],
                   cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    outcome: dict[str, set[str]] = {"passed": set(), "failed": set(), "skipped": set()}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            outcome["failed"].add(name)
        elif case.find("skipped") is not None:
            outcome["skipped"].add(name)
        else:
            outcome["passed"].add(name)
    return wall, outcome


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", default=str(ROOT))
    ap.add_argument("pytest_args", nargs="*")
    args = ap.parse_args(argv)
    tree = Path(args.tree).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        hidden = Path(tmp) / "hidden"
        (hidden / "rapidocr").mkdir(parents=True)
        (hidden / "rapidocr" / "__init__.py").write_text('"""rapidocr without its models (bench_tests.py)."""\n')
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree / "src")] + [p for p in [os.environ.get("PYTHONPATH")] if p])}
        wall, normal = run(tree, env, Path(tmp) / "normal.xml", args.pytest_args)
        env_hidden = {**env, "PYTHONPATH": os.pathsep.join([str(hidden), env["PYTHONPATH"]])}
        wall_hidden, without = run(tree, env_hidden, Path(tmp) / "hidden.xml", args.pytest_args)
    ran = normal["passed"] | normal["failed"]
    needs = (without["failed"] | without["skipped"]) & normal["passed"]
    print(f"tree {tree}")
    print(f"suite: {len(normal['passed'])} passed, {len(normal['failed'])} failed, {len(normal['skipped'])} skipped "
          f"in {wall:.0f} s")
    print(f"with the models hidden: {len(without['passed'])} passed, {len(without['failed'])} failed in {wall_hidden:.0f} s")
    print(f"tests that need the ONNX models: {len(needs)} of {len(ran)} ({len(needs) / max(1, len(ran)):.0%})")
    by_file: dict[str, list[int]] = {}
    for name in ran:
        f = name.split("::")[0]
        row = by_file.setdefault(f, [0, 0])
        row[0] += 1
        row[1] += name in needs
    print("\n| test module | tests | need the models |\n|---|---:|---:|")
    for f, (n, k) in sorted(by_file.items()):
        print(f"| {f} | {n} | {k} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
