"""Write docs/quality.md from the results file of ``benchmarks.select``, so no figure in it is older than the run.

Usage::

    python -m benchmarks.quality_report                      # docs/benchmarks/quality{,-csv}.json -> docs/quality.md
    python -m benchmarks.quality_report --check              # exit 1 when docs/quality.md is not what it writes

Claims against a published table or another algorithm are made only where the
difference exceeds two standard errors (of our mean over the splits, or of the
per-split differences when both ran on the same splits); otherwise the page
says the difference is within the noise.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "docs" / "benchmarks" / "quality.json"
CSV_RESULTS = REPO / "docs" / "benchmarks" / "quality-csv.json"  # the same run on a csv-layout drop
PAGE = REPO / "docs" / "quality.md"

# Microsoft Recommenders' ML-100k table (README, "Algorithm Comparison": stratified 75/25, k = 10).
# Its MAP column is their `map` (divided by every relevant item), not `map_at_k`.
PUBLISHED = {
    "BiVAE": {"map": 0.146126, "ndcg_at_10": 0.475077, "precision_at_10": 0.411771, "recall_at_10": 0.219145},
    "BPR": {"map": 0.132478, "ndcg_at_10": 0.441997, "precision_at_10": 0.388229, "recall_at_10": 0.212522},
    "LightGCN": {"map": 0.088526, "ndcg_at_10": 0.419846, "precision_at_10": 0.379626, "recall_at_10": 0.144336},
    "NCF": {"map": 0.107720, "ndcg_at_10": 0.396118, "precision_at_10": 0.347296, "recall_at_10": 0.180775},
    "SAR": {"map": 0.110591, "ndcg_at_10": 0.382461, "precision_at_10": 0.330753, "recall_at_10": 0.176385},
    "SVD (Surprise)": {"map": 0.012873, "ndcg_at_10": 0.095930, "precision_at_10": 0.091198, "recall_at_10": 0.032783},
    "ALS (Spark)": {"map": 0.004732, "ndcg_at_10": 0.044239, "precision_at_10": 0.048462, "recall_at_10": 0.017796},
}
TOPN = ("ndcg_at_10", "precision_at_10", "recall_at_10", "map_at_10", "map")
TOPN_LABELS = {
    "ndcg_at_10": "NDCG@10",
    "precision_at_10": "Precision@10",
    "recall_at_10": "Recall@10",
    "map_at_10": "`map_at_k`",
    "map": "`map`",
}


def command(text: str) -> str:
    """The results file's command with the data folder as the reader's own (``ml-100k``: GroupLens' zip, unpacked)."""
    words = text.split()
    if "--ml-100k" in words:
        words[words.index("--ml-100k") + 1] = "ml-100k"
    return " ".join(words)


def pm(block: dict, digits: int = 4) -> str:
    if block["n"] < 2:
        return f"{block['mean']:.{digits}f} (one split)"
    return f"{block['mean']:.{digits}f} ± {block['std']:.{digits}f}"


def compare(diff: float, se: float, higher: str, lower: str) -> str:
    """Words for a difference: a claim only beyond two standard errors."""
    if se == 0:
        return f"{diff:+.4f} on one split, no standard error: no claim"
    if se > 0 and abs(diff) > 2 * se:
        return f"{higher if diff > 0 else lower} ({diff:+.4f}, {abs(diff) / se:.1f} standard errors)"
    return f"within two standard errors ({diff:+.4f}, standard error {se:.4f}): no claim"


def paired(ours: list[float], theirs: list[float]) -> tuple[float, float]:
    """Mean and standard error of per-split differences."""
    diffs = [a - b for a, b in zip(ours, theirs, strict=True)]
    se = statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else 0.0
    return statistics.fmean(diffs), se


def grid_table(choice: dict, current: dict) -> list[str]:
    names = sorted(choice["chosen"])
    metric = choice["metric"]
    head = [*names, f"mean inner {metric}", ""]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for point in sorted(choice["mean_inner"], key=lambda r: tuple(r[n] for n in names)):
        marks = []
        if all(point[n] == choice["chosen"][n] for n in names):
            marks.append("**chosen**")
        if all(point[n] == current[n] for n in names):
            marks.append("current default")
        cells = [str(point[n]) for n in names] + [f"{point[metric]:.4f}", ", ".join(marks)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def rating_section(results: dict) -> list[str]:
    splits = [s for s in results["splits"] if s["protocol"] == "rating"]
    if not splits:
        return []
    summary = results["summary"]["rating"]
    algos = sorted(summary["surprise"])
    head = ["fold", "rank", "reg_param", "RMSE", "MAE", *[f"{a} RMSE" for a in algos], "NDCG@10", "fit s"]
    missing = [f"u{i}" for i in range(1, 6) if f"u{i}" not in {s["split"] for s in splits}]
    lines = [
        "## Rating accuracy: ML-100k's five folds",
        "",
        *(
            [f"**Not run yet: {', '.join(missing)}** (`--resume` runs them): the figures are over the folds below.", ""]
            if missing
            else []
        ),
        "u1..u5 as ML-100k's `mku.sh` makes them from `u.data` (test fold i is the i-th block of 20,000",
        "ratings). Each fold's `rank` and `reg_param` are that fold's choice on its inner hold-out; the",
        "other knobs are the defaults. scikit-surprise's SVD and SVD++ (default parameters, `random_state`",
        "42) run on the same files in the same run. NDCG@10 here is on the random folds, not the top-N",
        "protocol below.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for s in splits:
        chosen = s["chosen"]["rating"]
        row = [s["split"], str(chosen["rank"]), str(chosen["reg_param"])]
        row += [f"{s['ours']['rmse']:.4f}", f"{s['ours']['mae']:.4f}"]
        row += [f"{s['surprise'][a]['rmse']:.4f}" for a in algos]
        row += [f"{s['ours']['ndcg_at_10']:.4f}", f"{s['fit_seconds']:.0f}"]
        lines.append("| " + " | ".join(row) + " |")
    mean = ["**mean ± std**", "", "", f"**{pm(summary['rmse'])}**", pm(summary["mae"])]
    mean += [pm(summary["surprise"][a]["rmse"]) for a in algos] + [pm(summary["ndcg_at_10"]), ""]
    lines += ["| " + " | ".join(mean) + " |", ""]
    for a in algos:
        diff, se = paired([s["ours"]["rmse"] for s in splits], [s["surprise"][a]["rmse"] for s in splits])
        lines.append(f"- RMSE against {a} on the same folds: " + compare(diff, se, "higher (worse)", "lower (better)"))
    lines += [
        "- Published for reference (not rerun here): Recommenders' table lists SVD at RMSE 0.9387 on its",
        "  stratified split, and GLocal-K (Han et al., 2021) reports 0.8889 on u1 alone; single numbers",
        "  without a spread, on other splits: no claim is made against them.",
        "",
    ]
    return lines


def topn_section(results: dict) -> list[str]:
    splits = [s for s in results["splits"] if s["protocol"] == "topn"]
    if not splits:
        return []
    summary = results["summary"]["topn"]
    missing = [f"seed {seed}" for seed in results["seeds"] if f"seed {seed}" not in {s["split"] for s in splits}]
    head = ["split", "alpha", "reg_param", *[TOPN_LABELS[m] for m in TOPN], "RMSE", "lowest predicted"]
    lines = [
        "## Top-N: Microsoft Recommenders' protocol",
        "",
        "ML-100k, per-user stratified 75/25 split (`movierec.data.split.split_stratified`, as Recommenders'",
        "`python_stratified_split`) with each seed below, none of them used to choose anything; lists of 10",
        "as publish writes them (`movierec.serving.topn.recommend`: movies rated in training excluded, none",
        "predicted below 3 stars); relevance = the user's test movies. `map_at_k` divides each user's",
        "average precision by min(10, relevant), `map` by every relevant movie: Recommenders' two names,",
        "and their published table's MAP column is `map`. Each seed's `alpha` and `reg_param` are its own",
        "choice on its inner hold-out.",
        "",
        *([f"**Not run yet: {', '.join(missing)}** (`--resume` runs them).", ""] if missing else []),
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for s in splits:
        chosen = s["chosen"]["ranker"]
        row = [s["split"], str(chosen["alpha"]), str(chosen["reg_param"])]
        row += [f"{s['ours'][m]:.4f}" for m in TOPN] + [f"{s['ours']['rmse']:.4f}"]
        row.append(f"{s['lists']['min_predicted_rating']:.2f}")
        lines.append("| " + " | ".join(row) + " |")
    mean = ["**mean ± std**", "", "", *[f"**{pm(summary[m])}**" for m in TOPN], pm(summary["rmse"]), ""]
    lines += ["| " + " | ".join(mean) + " |", ""]
    lines += [
        "Against Recommenders' published ML-100k table (one run each, on their own stratified split): each",
        "cell is the published figure and whether our mean is above or below it by more than two standard",
        f"errors of our mean over {len(splits)} seeds, or within them (no claim either way).",
        "",
        "| published | NDCG@10 | Precision@10 | Recall@10 | `map` |",
        "|---|---|---|---|---|",
    ]
    for name, row in PUBLISHED.items():
        cells = [name]
        for m in ("ndcg_at_10", "precision_at_10", "recall_at_10", "map"):
            diff, se = summary[m]["mean"] - row[m], summary[m]["se"]
            mark = ("above" if diff > 0 else "below") if se > 0 and abs(diff) > 2 * se else "within 2 SE"
            cells.append(f"{row[m]:.4f} ({mark})")
        lines.append("| " + " | ".join(cells) + " |")
    best = PUBLISHED["BiVAE"]["ndcg_at_10"]
    diff, se = summary["ndcg_at_10"]["mean"] - best, summary["ndcg_at_10"]["se"]
    lines += ["", "NDCG@10 against BiVAE, the best of that table: " + compare(diff, se, "above", "below") + ".", ""]
    return lines


def inner_gap(results: dict, model: str, choice: dict, current: dict) -> str:
    """The proposed grid point against the current default, paired over the splits' inner hold-outs."""
    names, metric = sorted(choice["chosen"]), choice["metric"]
    ours, theirs = [], []
    for split in results["splits"]:
        record = split["search"].get(model)
        if not record:
            continue
        by_point = {tuple(r[n] for n in names): r[metric] for r in record["results"]}
        ours.append(by_point[tuple(choice["chosen"][n] for n in names)])
        theirs.append(by_point[tuple(current[n] for n in names)])
    if len(ours) < 2:
        return f"{ours[0] - theirs[0]:+.5f} {metric} on one split: no claim"
    diff, se = paired(ours, theirs)
    if abs(diff) > 2 * se:
        return f"{diff:+.5f} {metric} (standard error {se:.5f}): a real difference"
    return f"{diff:+.5f} {metric} (standard error {se:.5f}), within two standard errors: either is as well supported"


def choice_section(results: dict) -> list[str]:
    defaults = results["summary"]["defaults"]
    base = results["base_params"]
    lines = [
        "## The choice of the defaults",
        "",
        "Each outer split's training ratings are split again and the grid below is searched on that inner",
        "hold-out only (the search of `fit --tune`, `movierec.evaluation.tuning`): the rating model by",
        "RMSE on a random 20% of a fold's base, the ranking model by NDCG@10 on a per-user stratified 25%",
        "of a seed's training side. The chosen default is the grid point with the best inner score",
        "averaged over the splits, unless it beats the incumbent default by no more than two standard",
        "errors (paired over the splits): then the default stays, so it never moves on noise. The outer",
        "test sets never enter the choice.",
        "",
    ]
    for model, label in (("rating", "Rating model"), ("ranker", "Ranking model")):
        choice = defaults.get(model)
        if not choice:
            continue
        current = {n: base[model][n] for n in choice["chosen"]}
        names = sorted(choice["chosen"])
        votes = ", ".join(f"{'/'.join(str(v[n]) for n in names)} by {v['splits']}" for v in choice["splits_choosing"])
        lines += [f"**{label}** ({', '.join(sorted(choice['chosen']))}), splits' own choices: {votes}.", ""]
        lines += grid_table(choice, current) + [""]
        best = choice.get("best", choice["chosen"])
        if choice["chosen"] == current and best != current:
            gain = choice["gain_over_incumbent"]
            lines.append(
                f"Chosen: {json.dumps(choice['chosen'])}, the current default. The best mean inner score is "
                f"{json.dumps(best)}'s, {gain['mean']:+.5f} {choice['metric']} over the default per split "
                f"(standard error {gain['se']:.5f}): within two standard errors, so the default stays."
            )
        elif choice["chosen"] == current:
            lines.append(f"Chosen: {json.dumps(choice['chosen'])}, the current default.")
        else:
            lines.append(
                f"Chosen: {json.dumps(choice['chosen'])}; the code's default is {json.dumps(current)}. "
                + "Per split, the proposed point against the default on the inner hold-out: "
                + inner_gap(results, model, choice, current)
                + "."
            )
        lines.append("")
    return lines


def unpaired(ours: dict, theirs: dict) -> tuple[float, float]:
    """Difference of two means over different splits, and its standard error."""
    return ours["mean"] - theirs["mean"], (ours["se"] ** 2 + theirs["se"] ** 2) ** 0.5


def same_splits(a: dict, b: dict, protocol: str, metric: str) -> bool:
    """True when both runs have the same splits of ``protocol`` and equal ``metric`` on each."""
    values = [{s["split"]: s["ours"][metric] for s in run["splits"] if s["protocol"] == protocol} for run in (a, b)]
    return (
        bool(values[0])
        and values[0].keys() == values[1].keys()
        and all(abs(v - values[1][k]) < 1e-12 for k, v in values[0].items())
    )


def csv_section(csv: dict, main: dict) -> list[str]:
    """The same selection and figures on a csv-layout drop, against the u.data run's."""
    lines = [
        "## The same on a csv-layout drop",
        "",
        "ML-100k rewritten in the csv layout (`ratings.csv`/`movies.csv`, as ml-latest-small) by",
        "`benchmarks.csv_drop`, read by the pipeline's csv parser, and run through the same selection:",
        "",
        "```bash",
        "python -m benchmarks.csv_drop --ml-100k ml-100k --out build/ml-100k-csv",
        command(csv["command"]),
        "```",
        "",
        f"A csv drop has no u1..u5, so its rating folds are {csv['folds']}; the top-N splits use the same",
        "seeds, so equal figures there mean the csv reader read the same ratings as the `u.data` one.",
        f"Run of commit `{csv['commit'][:7]}` started {csv['started']}, {csv.get('seconds', 0) / 60:.0f} min.",
        "Results file: [docs/benchmarks/quality-csv.json](benchmarks/quality-csv.json).",
        "",
        "| figure | csv drop, mean ± std | u.data run, mean ± std | difference |",
        "|---|---|---|---|",
    ]
    rows = [("rating", m, label) for m, label in (("rmse", "RMSE"), ("mae", "MAE"))]
    rows += [("topn", m, TOPN_LABELS[m]) for m in TOPN]
    for protocol, metric, label in rows:
        if protocol not in csv["summary"] or protocol not in main["summary"]:
            continue
        ours, theirs = csv["summary"][protocol][metric], main["summary"][protocol][metric]
        diff, se = unpaired(ours, theirs)
        verdict = compare(diff, se, "higher", "lower")
        if same_splits(csv, main, protocol, metric):
            verdict = "identical on every split: the same ratings, split with the same seeds"
        lines.append(f"| {label} | {pm(ours)} | {pm(theirs)} | {verdict} |")
    for algo in sorted(csv["summary"].get("rating", {}).get("surprise", {})):
        ours = csv["summary"]["rating"]["surprise"][algo]["rmse"]
        theirs = main["summary"]["rating"]["surprise"][algo]["rmse"]
        diff, se = unpaired(ours, theirs)
        lines.append(f"| {algo} RMSE | {pm(ours)} | {pm(theirs)} | {compare(diff, se, 'higher', 'lower')} |")
    chosen = {m: c["chosen"] for m, c in csv["summary"]["defaults"].items() if c}
    lines += [
        "",
        f"The csv run's own choice of defaults: {json.dumps(chosen, sort_keys=True)}.",
        "",
    ]
    return lines


def render(results: dict, csv: dict | None = None) -> str:
    base = results["base_params"]
    r, k = base["rating"], base["ranker"]
    lines = [
        "# Model quality",
        "",
        "<!-- Written by `python -m benchmarks.quality_report` from docs/benchmarks/quality.json; edit the",
        "     script, not this page. -->",
        "",
        "Every figure on this page is out of sample: measured on test ratings that no choice of a default",
        "has seen, as mean ± standard deviation over several splits, by one committed command:",
        "",
        "```bash",
        "pip install -r benchmarks/requirements.txt          # scikit-surprise, benchmark extra only",
        command(results["command"]).replace(" --", " \\\n    --"),
        "python -m benchmarks.quality_report                  # this page, from the results file",
        "```",
        "",
        "`ml-100k` is the folder of GroupLens' `ml-100k.zip`, unpacked (MovieLens may not be redistributed).",
        f"Run of commit `{results['commit'][:7]}` started {results['started']}, {results['machine']}, "
        f"{results.get('seconds', 0) / 60:.0f} min on a shared 2-core machine"
        + (f" in {len(results['invocations'])} parts (`--resume`)" if len(results.get("invocations", [])) > 1 else "")
        + ". Results file:",
        "[docs/benchmarks/quality.json](benchmarks/quality.json) (every grid point's inner score, every",
        "split's choice and figures).",
        "",
        "## The models",
        "",
        f"**Rating model** (RMSE, the `predicted_rating` column): biases `mu + b_user + b_movie` (damped"
        f" means, `bias_reg` {r['bias_reg']:g}), Spark ALS (rank {r['rank']}, `reg_param` {r['reg_param']:g},"
        f" {r['max_iter']} iterations) on their residuals, refitted once (`backfit` {r['backfit']}), blended"
        f" with a taste-profile term (`profile_weight` {r['profile_weight']:g}): each user's ridge regression"
        f" of their residuals on the ranking model's movie factors. **Ranking model** (the lists):"
        f" implicit-feedback Spark ALS (rank {k['rank']}, `reg_param` {k['reg_param']:g}, `alpha`"
        f" {k['alpha']:g}, confidence `1 + alpha * rating`), movies with fewer than {k['min_support']}"
        " training ratings never listed. Those are the code's defaults in this run; the grids below search"
        " `rank` x `reg_param` of the first and `alpha` x `reg_param` of the second.",
        "",
        "The published `score` is a chance: among list slots whose ranking-model score is like this one, the",
        "share whose movie the user went on to rate, measured by fit on a hold-out of the training ratings",
        "shaped like the test split (never on the test set), so 40% means about 4 in 10 such movies are",
        "ones the user watches and rates in a period like the test set's; it says nothing about liking,",
        "which is `predicted_rating`.",
        "",
    ]
    lines += choice_section(results) + rating_section(results) + topn_section(results)
    if csv:
        lines += csv_section(csv, results)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--csv-results", type=Path, default=CSV_RESULTS, help="the csv-layout run (skipped if absent)")
    parser.add_argument("--out", type=Path, default=PAGE)
    parser.add_argument("--check", action="store_true", help="fail when --out differs from what would be written")
    args = parser.parse_args(argv)
    csv = json.loads(args.csv_results.read_text(encoding="utf-8")) if args.csv_results.is_file() else None
    page = render(json.loads(args.results.read_text(encoding="utf-8")), csv)
    if args.check:
        if args.out.read_text(encoding="utf-8") != page:
            print(f"{args.out} is out of date: run python -m benchmarks.quality_report", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
