"""Choose both models' defaults on training data only, then measure them on test data nothing was chosen on.

A nested protocol. Each *outer* split's training ratings are split again and
one model's grid is searched on that *inner* hold-out with the search of
``fit --tune`` (:mod:`movierec.evaluation.tuning`); the model with that
split's choice (the other model at its defaults) is then fitted on the whole
outer training set and scored on the outer test set, which no choice has
seen. Two kinds of outer split:

- ``rating``: ML-100k's five folds u1..u5 (made from ``u.data`` as its
  ``mku.sh`` does: test fold i is the i-th block of 20,000 lines, the rest is
  its base). The rating model's ``rank`` x ``reg_param`` are searched by RMSE
  on a random 20% of the base. Outer figures: RMSE and MAE, and
  scikit-surprise's SVD and SVD++ (default parameters) on the same files;
- ``topn``: Microsoft Recommenders' protocol, a per-user stratified 75/25 split
  of ``u.data`` (:func:`movierec.data.split.split_stratified`) with each of
  ``--seeds``. The ranking model's ``alpha`` x ``reg_param`` are searched by
  NDCG@10 on a per-user stratified 25% of the training side. Outer figures:
  lists of 10 as publish makes them, movies rated in training excluded,
  NDCG/Precision/Recall@10, ``map_at_k`` and ``map`` as Recommenders names them.

The defaults proposed are, for each model, the grid point with the best mean
inner-hold-out score over all outer splits (training data only), unless it beats
the incumbent default by no more than two standard errors (paired over the
splits' inner hold-outs): then the incumbent stays, so a default never moves on
noise. Every grid
point's inner score, every split's choice and every outer figure go to the
results file (``--out``), rewritten after each split so a stopped run keeps
what it measured. ``python -m benchmarks.quality_report`` writes docs/quality.md
from it.

Usage::

    python -m benchmarks.select --ml-100k ../shared/movielens/ml-100k --out docs/benchmarks/quality.json
    python -m benchmarks.select --drop build/ml-100k-csv --out docs/benchmarks/quality-csv.json

``--drop`` reads any other drop folder (csv or ``::`` layout) with the pipeline's parser; its
five rating folds are then seeded random folds (``FOLD_SEED``), as such drops come without u1..u5.

``--protocols topn`` (or ``rating``) runs one kind of split; ``--resume`` keeps
the splits already in ``--out`` and runs the rest, so a long run can be done in
parts (the grids and defaults must be the same).

scikit-surprise is a benchmark extra: ``pip install -r benchmarks/requirements.txt``.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from itertools import zip_longest
from pathlib import Path

from benchmarks.quality import K, check_scored_once, make_folds, read_ratings, run_surprise, session

RATING_GRID: dict[str, tuple] = {"rank": (20, 50), "reg_param": (0.12, 0.2)}
RANKER_GRID: dict[str, tuple] = {"alpha": (0.1, 0.25, 1.0), "reg_param": (0.1, 0.3)}
SEEDS = (1, 2, 3, 4, 5)
FOLD_RATINGS = 20_000  # ML-100k's mku.sh: each u<i>.test is one block of this many lines of u.data
FOLD_SEED = 0  # --drop's five random rating folds
INNER_SEED = 1000  # inner hold-outs are drawn with INNER_SEED + the split's number: never an outer seed
TOPN_METRICS = (f"ndcg_at_{K}", f"precision_at_{K}", f"recall_at_{K}", f"map_at_{K}", "map")
RATING_METRICS = ("rmse", "mae")


def mku_folds(u_data: Path, out: Path) -> list[tuple[str, Path, Path]]:
    """ML-100k's u1..u5 as its ``mku.sh`` writes them: the i-th block of 20,000 lines is u<i>.test."""
    lines = u_data.read_text(encoding="latin-1").splitlines()
    if len(lines) != 5 * FOLD_RATINGS:
        raise SystemExit(f"{u_data}: {len(lines)} lines, expected ML-100k's {5 * FOLD_RATINGS:,}")
    out.mkdir(parents=True, exist_ok=True)
    folds = []
    for i in range(5):
        lo, hi = i * FOLD_RATINGS, (i + 1) * FOLD_RATINGS
        base, test = out / f"u{i + 1}.base", out / f"u{i + 1}.test"
        base.write_text("\n".join(lines[:lo] + lines[hi:]) + "\n", encoding="latin-1")
        test.write_text("\n".join(lines[lo:hi]) + "\n", encoding="latin-1")
        folds.append((f"u{i + 1}", base, test))
    return folds


def ratings_file(drop: Path) -> Path:
    """The ratings file of a drop folder, whichever official layout it has."""
    for name in ("ratings.csv", "ratings.dat", "u.data"):
        if (drop / name).is_file():
            return drop / name
    raise SystemExit(f"{drop}: no ratings.csv, ratings.dat or u.data")


def random_folds(ratings: Path, out: Path) -> list[tuple[str, Path, Path]]:
    """Five seeded random folds of any ratings file: each rating in exactly one test fold."""
    return [(f"fold {i}", base, test) for i, (base, test) in enumerate(make_folds(ratings, 5, FOLD_SEED, out), 1)]


def run_split(spark, protocol: str, name: str, train, test, scale, inner_seed: int, args) -> dict:
    """Search on the inner hold-outs of ``train``, fit the choice on ``train``, score it on ``test``."""
    from movierec.data.rated import rated_by_user
    from movierec.evaluation.scoring import score_model
    from movierec.evaluation.tuning import tune_ranker, tune_rating
    from movierec.models.model import fit_model
    from movierec.models.params import AlsParams, RankerParams
    from movierec.serving.listing import ListSettings
    from movierec.serving.predict import predict
    from movierec.serving.tables import serving

    started = time.monotonic()
    params, ranker, search = AlsParams(), RankerParams(), {}
    if protocol == "rating":
        params, search["rating"] = tune_rating(train, params, ranker, scale, inner_seed, args.parallelism, RATING_GRID)
    else:
        ranker, search["ranker"] = tune_ranker(train, ranker, inner_seed, args.parallelism, RANKER_GRID)
    search_seconds = time.monotonic() - started
    started = time.monotonic()
    model = fit_model(train, params, ranker, parallelism=2)
    model.profiles.count()
    fit_seconds = time.monotonic() - started
    served = serving(model, train)
    scored = score_model(served, test, rated_by_user(train, test), K, scale, None, ListSettings.default())
    check_scored_once(predict(served, test, *scale), test)
    out = {
        "protocol": protocol,
        "split": name,
        "inner_seed": inner_seed,
        "train_ratings": train.count(),
        "test_ratings": scored["test_ratings"],
        "search": {**search, "seconds": round(search_seconds, 1)},
        "chosen": {model_name: record["chosen"] for model_name, record in search.items()},
        "params": {"rating": asdict(params), "ranker": asdict(ranker)},
        "ours": {m: scored[m] for m in (*RATING_METRICS, *TOPN_METRICS, "ranking_users")},
        "lists": scored["lists"],
        "fit_seconds": round(fit_seconds, 1),
    }
    if protocol == "rating" and args.surprise:
        out["surprise"] = run_surprise(train, test, scale, 42)
    return out


def mean_std(values: list[float]) -> dict:
    """Mean, sample standard deviation, standard error and n."""
    n = len(values)
    std = statistics.stdev(values) if n > 1 else 0.0
    return {"mean": statistics.fmean(values), "std": std, "se": std / n**0.5, "n": n}


def summarise(splits: list[dict], incumbents: dict) -> dict:
    """Per protocol: mean ± std of every outer figure; per model: the proposed defaults."""
    out: dict = {}
    for protocol, metrics in (("rating", RATING_METRICS + TOPN_METRICS), ("topn", TOPN_METRICS + RATING_METRICS)):
        done = [s for s in splits if s["protocol"] == protocol]
        if not done:
            continue
        block = {m: mean_std([s["ours"][m] for s in done]) for m in metrics}
        algos = sorted({a for s in done for a in s.get("surprise", {})})
        block["surprise"] = {
            a: {m: mean_std([s["surprise"][a][m] for s in done]) for m in RATING_METRICS} for a in algos
        }
        block["splits"] = [s["split"] for s in done]
        out[protocol] = block
    out["defaults"] = {
        "rating": proposed(
            [s["search"]["rating"] for s in splits if "rating" in s["search"]], "rmse", False, incumbents["rating"]
        ),
        "ranker": proposed(
            [s["search"]["ranker"] for s in splits if "ranker" in s["search"]],
            f"ndcg_at_{K}",
            True,
            incumbents["ranker"],
        ),
    }
    return out


def proposed(records: list[dict], metric: str, higher_is_better: bool, incumbent: dict) -> dict:
    """The chosen grid point (the best mean inner score, unless within two standard errors of ``incumbent``)."""
    if not records:
        return {}
    names = sorted(records[0]["grid"])
    by_point: dict[tuple, list[float]] = {}
    for record in records:
        for result in record["results"]:
            by_point.setdefault(tuple(result[n] for n in names), []).append(result[metric])
    means = [{**dict(zip(names, point, strict=True)), metric: statistics.fmean(v)} for point, v in by_point.items()]
    best = (max if higher_is_better else min)(means, key=lambda r: r[metric])
    votes: dict[tuple, int] = {}
    for record in records:
        key = tuple(record["chosen"][n] for n in names)
        votes[key] = votes.get(key, 0) + 1
    best_point = {n: best[n] for n in names}
    kept = {n: incumbent[n] for n in names}
    gains = []
    for record in records:
        scores = {tuple(r[n] for n in names): r[metric] for r in record["results"]}
        gain = scores[tuple(best_point[n] for n in names)] - scores[tuple(kept[n] for n in names)]
        gains.append(gain if higher_is_better else -gain)
    gap = mean_std(gains)
    beats = len(gains) > 1 and gap["mean"] > 2 * gap["se"]
    return {
        "chosen": best_point if beats or best_point == kept else kept,
        "best": best_point,
        "gain_over_incumbent": gap,
        "rule": "the best mean inner score, unless it beats the incumbent by no more than two standard errors",
        "metric": metric,
        "mean_inner": means,
        "splits_choosing": [{**dict(zip(names, k, strict=True)), "splits": v} for k, v in sorted(votes.items())],
    }


def write(path: Path, results: dict) -> None:
    tmp = path.with_suffix(".partial")
    tmp.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument("--ml-100k", type=Path, help="the ML-100k folder (its u.data; folds u1..u5)")
    data.add_argument("--drop", type=Path, help="another drop folder (ratings.csv or ratings.dat; random folds)")
    parser.add_argument("--out", type=Path, required=True, help="the results file (JSON)")
    parser.add_argument("--seeds", type=int, nargs="*", default=list(SEEDS), help="seeds of the stratified splits")
    parser.add_argument("--protocols", nargs="*", default=["rating", "topn"], choices=["rating", "topn"])
    parser.add_argument("--surprise", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--parallelism", type=int, default=2, help="grid points fitted at a time")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument(
        "--resume", action="store_true", help="keep the splits already in --out and run only the others"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("py4j").setLevel(logging.WARNING)
    if args.surprise:
        try:
            import surprise  # noqa: F401
        except ImportError:
            parser.error(
                "scikit-surprise is not installed: pip install -r benchmarks/requirements.txt (or --no-surprise)"
            )

    from movierec.data.split import split_stratified
    from movierec.models.params import AlsParams, RankerParams

    source = ("--ml-100k", args.ml_100k) if args.ml_100k else ("--drop", args.drop)
    u_data = args.ml_100k / "u.data" if args.ml_100k else ratings_file(args.drop)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False).stdout.strip()
    results: dict = {
        "command": f"python -m benchmarks.select {source[0]} {source[1]} --out {args.out}"
        + ("" if args.seeds == list(SEEDS) else " --seeds " + " ".join(map(str, args.seeds)))
        + ("" if args.surprise else " --no-surprise"),
        "invocations": [],
        "commit": commit,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.python_version()}, Spark {args.master}",
        "data": "MovieLens 100k (u.data)" if args.ml_100k else f"{args.drop.name} ({u_data.name})",
        "folds": "ML-100k's u1..u5" if args.ml_100k else f"five random folds, seed {FOLD_SEED}",
        "k": K,
        "grids": {
            "rating": {k: list(v) for k, v in RATING_GRID.items()},
            "ranker": {k: list(v) for k, v in RANKER_GRID.items()},
        },
        "base_params": {"rating": asdict(AlsParams()), "ranker": asdict(RankerParams())},
        "seeds": args.seeds,
        "splits": [],
    }
    before = 0.0
    if args.resume and args.out.exists():
        kept = json.loads(args.out.read_text(encoding="utf-8"))
        if kept["grids"] != results["grids"] or kept["base_params"] != results["base_params"]:
            raise SystemExit(f"{args.out} was made with other grids or defaults: rerun without --resume")
        results.update({k: kept[k] for k in ("splits", "started", "invocations", "commit") if k in kept})
        before = kept.get("seconds", 0.0)
    results["invocations"].append(" ".join(argv if argv is not None else sys.argv[1:]))
    done = {(s["protocol"], s["split"]) for s in results["splits"]}
    spark = session(args.master)
    began = time.monotonic() - before
    jobs = []
    if "rating" in args.protocols:
        folds = mku_folds if args.ml_100k else random_folds
        for i, (name, base, test) in enumerate(folds(u_data, Path(tempfile.mkdtemp(prefix="movierec-folds-")))):
            jobs.append(
                ("rating", name, lambda b=base, t=test: (*read_ratings(spark, b), read_ratings(spark, t)[0]), i)
            )
    if "topn" in args.protocols:
        ratings, scale = read_ratings(spark, u_data)

        def stratified(seed: int):
            train, test = split_stratified(ratings, 0.25, seed)
            return train.cache(), scale, test.cache()

        for seed in args.seeds:
            jobs.append(("topn", f"seed {seed}", lambda s=seed: stratified(s), 10 + seed))
    # Alternate the protocols, so a run stopped early still has figures for both models.
    rating_jobs, topn_jobs = [j for j in jobs if j[0] == "rating"], [j for j in jobs if j[0] == "topn"]
    jobs = [j for pair in zip_longest(rating_jobs, topn_jobs) for j in pair if j is not None]
    for protocol, name, load, number in jobs:
        if (protocol, name) in done:
            continue
        train, scale, test = load()
        split = run_split(spark, protocol, name, train, test, scale, INNER_SEED + number, args)
        train.unpersist()
        test.unpersist()
        results["splits"].append(split)
        results["summary"] = summarise(results["splits"], results["base_params"])
        results["seconds"] = round(time.monotonic() - began, 1)
        write(args.out, results)
        ours = split["ours"]
        print(
            f"{protocol} {name}: chose {split['chosen']} rmse={ours['rmse']:.4f} mae={ours['mae']:.4f} "
            f"ndcg@{K}={ours[f'ndcg_at_{K}']:.4f} map={ours['map']:.4f} "
            + " ".join(f"{a}={r['rmse']:.4f}" for a, r in split.get("surprise", {}).items())
            + f" ({time.monotonic() - began:.0f} s)",
            flush=True,
        )
    spark.stop()
    results["summary"] = summarise(results["splits"], results["base_params"])
    write(args.out, results)
    print(
        json.dumps(results["summary"]["defaults"]["rating"]["chosen"]),
        json.dumps(results["summary"]["defaults"]["ranker"]["chosen"]),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
