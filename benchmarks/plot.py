"""Plot the pipeline benchmark: wall time of the whole DAG and of each stage against the number of ratings.

Reads the ``--json`` files ``benchmarks/pipeline.py`` wrote (any number, any drop sizes; the
median of each drop is plotted) and writes a PNG with log-log axes and a linear-growth guide::

    python -m benchmarks.plot /tmp/perf-*.json --out docs/performance.png

Needs matplotlib (``pip install -r benchmarks/requirements.txt``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

TASKS = ["ingest", "preprocess", "fit", "evaluate", "publish"]


def points(paths: list[Path]) -> list[dict]:
    """One median row per drop (with its ``ratings``), sorted by ratings; later files win on ties."""
    by_ratings: dict[int, dict] = {}
    for path in paths:
        for label, result in json.loads(path.read_text()).items():
            if not isinstance(result, dict) or "median" not in result:
                continue  # not a benchmarks/pipeline.py result (e.g. benchmarks/als.py's)
            med = result["median"]
            ratings = med.get("ratings") or result["runs"][0].get("ratings")
            if not ratings and label.startswith("generated "):  # files written before ratings were recorded
                ratings = int(label.split()[1].replace(",", ""))
            if ratings:
                by_ratings[int(ratings)] = {**med, "ratings": int(ratings), "label": label, "runs": len(result["runs"])}
    return [by_ratings[n] for n in sorted(by_ratings)]


def plot(rows: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [r["ratings"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    ax.plot(x, [r["dag_wall_s"] for r in rows], "o-", color="black", lw=2, label="whole DAG")
    for task in TASKS:
        ax.plot(x, [r["stages"][task]["wall_s"] for r in rows], ".--", lw=1, label=task)
    base = rows[0]
    linear = [base["dag_wall_s"] * n / base["ratings"] for n in x]
    ax.plot(x, linear, ":", color="grey", label="linear from the first point")
    for r in rows:
        ax.annotate(
            f"{r['dag_wall_s']:.0f} s",
            (r["ratings"], r["dag_wall_s"]),
            textcoords="offset points",
            xytext=(4, 6),
            fontsize=8,
        )
    ax.axhline(20 * 60, color="red", lw=0.8, ls="-.", label="20 min target")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="ratings in the drop",
        ylabel="wall time, s (median)",
        title="Daily DAG on one machine (2 cores, local[*]): time against ratings",
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", type=Path, nargs="+", help="benchmarks/pipeline.py --json outputs")
    parser.add_argument("--out", type=Path, default=Path("docs/performance.png"))
    args = parser.parse_args(argv)
    rows = points(args.json)
    if not rows:
        parser.error("no drop with a ratings count in the given files")
    plot(rows, args.out)
    for r in rows:
        print(f"{r['ratings']:>12,} ratings ({r['label']}, {r['runs']} runs): DAG {r['dag_wall_s']:.1f} s")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
