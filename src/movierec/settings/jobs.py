"""Every setting of the pipeline, once: one model per job, each knob with its default, bounds, title and help.

The DAG's trigger form, each job's command line, ingest's fingerprint and docs/configuration.md
are all derived from these classes. Knobs marked ``form`` appear in the trigger form; knobs marked
``lists`` are the ones the published lists depend on and that ingest hashes into the fingerprint
(changing one recomputes instead of skipping an unchanged drop). The rest are fixed per release
and can be set by hand on a job's command line.

The models' searched defaults (the rating model's ``rank`` and ``reg_param``, the ranking model's
``alpha`` and ``ranker_reg_param``) are the ones chosen on training data only (inner hold-outs of
MovieLens 100k's folds and seeds) by
``python -m benchmarks.select --ml-100k <ML-100k folder> --out docs/benchmarks/quality.json``;
docs/quality.md shows the grid, the choice and the out-of-sample figures.
"""

from __future__ import annotations

from typing import Literal

from pydantic import create_model, field_validator

from movierec.settings.base import JobSettings, Settings, in_lists, knob

# The drop's location as the form checks it: empty (the Variable), an absolute path, or a URI.
SOURCE_PATTERN = r"^$|^/|^(file|https?|hdfs|viewfs|webhdfs|s3a|abfss|gs)://"


class WaitSettings(Settings):
    """How the run waits for the day's drop (the ``wait_for_drop`` sensor, not a Spark job)."""

    KIND = "wait_for_drop"

    drop_timeout: float = knob(
        12 * 3600,
        ge=0,
        form=True,
        title="Wait for the drop (seconds)",
        help="With a dated source ({ds}): how long to wait for the day's drop before skipping the run.",
    )
    drop_poke_interval: float = knob(
        300,
        gt=0,
        form=True,
        title="Seconds between two looks for the drop",
        help="How often the sensor looks for the day's drop.",
    )
    drop_settle: float = knob(
        60,
        ge=0,
        form=True,
        title="Drop settle time (seconds)",
        help="Without a _SUCCESS marker, the drop's files must be unchanged this long to count as complete.",
    )


class PreprocessSettings(JobSettings):
    """Preprocess: validation, de-duplication and the train/test split."""

    KIND = "preprocess"

    max_rejected_fraction: float = knob(
        0.1,
        ge=0,
        le=1,
        form=True,
        lists=True,
        title="Rejected-rows limit",
        help="Preprocess fails when a larger share of rating lines is rejected.",
    )
    test_fraction: float = knob(0.2, gt=0, lt=1, title="Test share", help="share of ratings held out for the gates")
    split: Literal["random", "stratified", "time"] = knob(
        "random",
        title="Split method",
        help="random: seeded per rating; stratified: the same share of each user's ratings, seeded; "
        "time: each user's latest ratings",
    )
    seed: int = knob(42, title="Split seed", help="seed of the random and stratified splits")


class FitSettings(JobSettings):
    """Fit: the rating model (biases + explicit ALS + taste profiles) and the ranking model (implicit ALS)."""

    KIND = "fit"

    # rank, reg_param: chosen by benchmarks.select (module docstring).
    rank: int = knob(
        50,
        ge=1,
        le=500,
        form=True,
        lists=True,
        title="ALS rank (rating model)",
        help="Latent factors of the rating model's ALS.",
    )
    reg_param: float = knob(
        0.12,
        ge=0,
        form=True,
        lists=True,
        title="ALS regularisation (rating model)",
        help="Regularisation of the rating model's ALS, scaled by each user's and movie's count (ALS-WR).",
    )
    max_iter: int = knob(
        10, ge=1, le=200, form=True, lists=True, title="ALS iterations", help="Iterations of the rating model's ALS."
    )
    tune: bool = knob(
        False,
        form=True,
        lists=True,
        title="Hyperparameter search",
        help="Choose the ALS knobs of the rating and ranking models by a search on a hold-out of the training "
        "set (slower); the chosen values are recorded in the model's params.json.",
    )
    min_support: int = knob(
        5,
        ge=1,
        form=True,
        lists=True,
        title="Minimum ratings to be recommended",
        help="Movies with fewer training ratings never appear in the lists.",
    )
    nonnegative: bool = knob(False, title="Non-negative factors", help="constrain the ALS factors to be >= 0")
    seed: int = knob(42, title="Seed", help="seeds both ALS fits and the search's hold-outs")
    bias_reg: float = knob(5.0, ge=0, title="Bias shrinkage", help="pseudo-count shrinking user and movie biases to 0")
    bias_passes: int = knob(3, ge=1, title="Bias passes", help="alternations of movie then user biases")
    backfit: int = knob(1, ge=0, title="Backfits", help="refits of the biases on what ALS leaves, then ALS again")
    profile_reg: float = knob(
        0.05, gt=0, title="Profile ridge", help="ridge of the taste profiles (scaled by the user's count)"
    )
    profile_weight: float = knob(
        0.65,
        ge=0,
        le=1,
        title="Profile weight",
        help="share of the taste-profile term in the predicted rating (0: biases + ALS only)",
    )
    checkpoint_interval: int = knob(
        5, ge=1, title="Checkpoint interval", help="ALS iterations between lineage checkpoints"
    )
    ranker_rank: int = knob(20, ge=1, title="Ranker rank", help="ranking model: implicit ALS rank")
    ranker_max_iter: int = knob(10, ge=1, title="Ranker iterations", help="ranking model: ALS iterations")
    ranker_reg_param: float = knob(0.1, ge=0, title="Ranker regularisation", help="ranking model: ALS regularisation")
    # alpha, ranker_reg_param: chosen by benchmarks.select (module docstring).
    alpha: float = knob(
        0.25, gt=0, title="Ranker confidence", help="ranking model: confidence of a rating, 1 + alpha * rating"
    )
    parallelism: int = knob(2, ge=1, title="Search parallelism", help="grid points fitted at a time by --tune")


class ListingSettings(JobSettings):
    """How lists are made beyond the model: evaluate judges the lists publish writes, so both take these."""

    min_predicted_rating: float = knob(
        3.0,
        ge=0,
        form=True,
        lists=True,
        title="Lowest predicted rating listed",
        help="A movie the rating model predicts below this many stars is never recommended.",
    )
    min_user_ratings: int = knob(
        5,
        ge=0,
        form=True,
        lists=True,
        title="Fewest ratings for a personal list",
        help="Users with fewer training ratings get the best-rated movies in the genres they rated.",
    )


class EvaluateSettings(ListingSettings):
    """Evaluate: the gates a model must pass to be published."""

    KIND = "evaluate"

    max_rmse: float = knob(
        1.0,
        gt=0,
        form=True,
        lists=True,
        title="RMSE gate",
        help="The model is not published when its test RMSE is above this.",
    )
    min_ndcg: float = knob(
        0.05,
        ge=0,
        le=1,
        form=True,
        lists=True,
        title="Ranking gate",
        help="The model is not published when the NDCG@10 of its lists is below this (empty or random lists).",
    )
    max_rmse_regression: float = knob(
        0.02,
        ge=0,
        form=True,
        lists=True,
        title="Champion gate: RMSE tolerance",
        help="Not published when its RMSE is this much above the published model's on the same test set.",
    )
    max_ndcg_drop: float = knob(
        0.02,
        ge=0,
        form=True,
        lists=True,
        title="Champion gate: NDCG@10 tolerance",
        help="Not published when its NDCG@10 is this much below the published model's on the same test set.",
    )
    max_coverage_drop: float = knob(
        1.0,
        ge=0,
        le=1,
        form=True,
        lists=True,
        title="Champion gate: catalogue coverage tolerance",
        help="Not published when its lists use this share of the catalogue less than the published model's "
        "(e.g. 0.1); 1 never refuses.",
    )
    k: int = knob(10, ge=1, title="Ranking cut-off", help="cut-off K of the ranking metrics (NDCG@K...)")
    min_test_ratings: int = knob(
        100,
        ge=1,
        form=True,
        lists=True,
        title="Gate evidence: fewest test ratings",
        help="Evaluate refuses to judge a model on fewer test ratings than this (an RMSE of a handful says nothing).",
    )
    min_ranking_users: int = knob(
        10,
        ge=1,
        form=True,
        lists=True,
        title="Gate evidence: fewest ranking users",
        help="Evaluate refuses to judge a model on fewer users with test movies to rank than this (NDCG@K).",
    )


class PublishSettings(ListingSettings):
    """Publish: the top-N lists, the champion's copy and the ``_LATEST`` pointer."""

    KIND = "publish"

    top_n: int = knob(
        10, ge=1, le=1000, form=True, lists=True, title="Recommendations per user", help="Movies in each user's list."
    )
    min_coverage: float = knob(
        0.95,
        ge=0,
        le=1,
        form=True,
        lists=True,
        title="Lists coverage",
        help="Publish refuses lists that leave more than this share of the drop's users without one.",
    )


class CleanupSettings(JobSettings):
    """Cleanup: retention of dated partitions."""

    KIND = "cleanup"

    keep_days: int = knob(
        14,
        ge=1,
        form=True,
        title="Retention (dates kept)",
        help="cleanup removes dated partitions older than this many dates before the run's date "
        "(never the published date).",
    )
    dry_run: bool = knob(
        False,
        form="cleanup_dry_run",
        title="Cleanup: dry run",
        help="List what cleanup would remove; remove nothing.",
    )
    protect: tuple[str, ...] = knob((), title="Protected dates", help="a date never removed (repeatable)")

    @field_validator("protect")
    @classmethod
    def _dates(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            JobSettings._is_a_date(item)
        return value


# The jobs whose knobs the lists depend on, in the order the DAG runs them.
LIST_JOBS: tuple[type[JobSettings], ...] = (PreprocessSettings, FitSettings, EvaluateSettings, PublishSettings)


def lists_model() -> type[Settings]:
    """The model of every ``lists`` knob of every job: what ingest's fingerprint hashes."""
    fields = {}
    for model in LIST_JOBS:
        for name, info in model.model_fields.items():
            if in_lists(info):
                fields[name] = (info.annotation, info)
    return create_model("ListsSettings", __base__=Settings, **fields)


ListsSettings = lists_model()
ListsSettings.KIND = "fingerprinted"


class IngestSettings(JobSettings):
    """Ingest: copy a drop into the warehouse and fingerprint it with the lists' settings."""

    KIND = "ingest"

    source: str | None = knob(
        "",
        pattern=SOURCE_PATTERN,
        form=True,
        title="MovieLens drop",
        help="Absolute folder or .zip path, http(s) URL, or Hadoop URI (hdfs://, file://, ...) of the drop; "
        "{ds} is replaced by the run date. Empty: the Airflow Variable movierec_source.",
    )
    force: bool = knob(
        False,
        form=True,
        title="Recompute even if unchanged",
        help="Off: when the drop's files and every model, gate and list setting equal those of the published "
        "run (the one recommendations/_LATEST names), fit, evaluate and publish are skipped and the published "
        "lists stay, so triggering the same drop again, on any date (e.g. after make stack-demo), recomputes "
        "nothing. On: fit, evaluate and publish anyway.",
    )
    settings: ListsSettings = knob(
        ListsSettings(),
        title="Fingerprinted settings",
        help="JSON object of the settings the published lists depend on (hashed into the fingerprint; "
        "keys: " + ", ".join(ListsSettings.model_fields) + "; missing keys take their defaults)",
    )
    sha256: str | None = knob(None, title="Expected SHA-256", help="expected SHA-256 of a zip or download")
    max_bytes: int = knob(4 * 1024**3, gt=0, title="Size limit", help="limit on download / unpacked size, bytes")
    stale_after_hours: float = knob(
        24.0, gt=0, title="Stale staging age", help="remove staging left by killed jobs older than this many hours"
    )


# Every model with knobs in the trigger form, in the order the form shows them.
FORM_MODELS: tuple[type[Settings], ...] = (
    IngestSettings,
    PreprocessSettings,
    FitSettings,
    EvaluateSettings,
    PublishSettings,
    WaitSettings,
    CleanupSettings,
)
