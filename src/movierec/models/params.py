"""Every knob of the two models, validated once."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from movierec.core.errors import PipelineError


def _check(kind: str, checks: list[tuple[bool, str]]) -> None:
    for ok, message in checks:
        if not ok:
            raise PipelineError(f"invalid {kind} parameter: {message}")


@dataclass(frozen=True)
class AlsParams:
    """Every knob of the rating model.

    The defaults are the pipeline's: chosen once on MovieLens 100k's five
    folds (see docs/quality.md), not per drop.

    Attributes:
        rank: number of latent factors of the explicit ALS.
        max_iter: ALS iterations.
        reg_param: ALS regularisation (scaled by each user's/movie's count, ALS-WR).
        nonnegative: constrain factors to be non-negative.
        seed: ALS initialisation seed.
        bias_reg: pseudo-count shrinking user and movie biases towards 0.
        bias_passes: alternations of movie then user biases.
        backfit: refit the biases on what ALS leaves, then ALS again, this many times.
        profile_reg: ridge regularisation of the taste profiles (scaled by the user's count).
        profile_weight: share of the profile model in the prediction (0: biases + ALS only).
        checkpoint_interval: iterations between lineage checkpoints.
    """

    rank: int = 50
    max_iter: int = 10
    reg_param: float = 0.12
    nonnegative: bool = False
    seed: int = 42
    bias_reg: float = 5.0
    bias_passes: int = 3
    backfit: int = 1
    profile_reg: float = 0.05
    profile_weight: float = 0.65
    checkpoint_interval: int = 5

    def __post_init__(self) -> None:
        _check(
            "ALS",
            [
                (self.rank >= 1, f"rank must be >= 1, got {self.rank}"),
                (self.max_iter >= 1, f"max_iter must be >= 1, got {self.max_iter}"),
                (self.reg_param >= 0, f"reg_param must be >= 0, got {self.reg_param}"),
                (self.bias_reg >= 0, f"bias_reg must be >= 0, got {self.bias_reg}"),
                (self.bias_passes >= 1, f"bias_passes must be >= 1, got {self.bias_passes}"),
                (self.backfit >= 0, f"backfit must be >= 0, got {self.backfit}"),
                (self.profile_reg > 0, f"profile_reg must be > 0, got {self.profile_reg}"),
                (0 <= self.profile_weight <= 1, f"profile_weight must be between 0 and 1, got {self.profile_weight}"),
                (self.checkpoint_interval >= 1, f"checkpoint_interval must be >= 1, got {self.checkpoint_interval}"),
            ],
        )


@dataclass(frozen=True)
class RankerParams:
    """Knobs of the ranking model (implicit-feedback ALS) and of the lists.

    Attributes:
        rank: number of latent factors.
        max_iter: ALS iterations.
        reg_param: ALS regularisation (scaled by counts).
        alpha: confidence of an observed rating: ``1 + alpha * rating``.
        seed: ALS initialisation seed.
        min_support: movies with fewer training ratings are never recommended.
    """

    rank: int = 20
    max_iter: int = 10
    reg_param: float = 0.1
    # 0.25 (was 1): with a gentler confidence the lists find more of what people go on to watch
    # (NDCG@10 0.4568 -> 0.4771 on ML-100k's stratified split, docs/quality.md).
    alpha: float = 0.25
    seed: int = 42
    min_support: int = 5

    def __post_init__(self) -> None:
        _check(
            "ranker",
            [
                (self.rank >= 1, f"rank must be >= 1, got {self.rank}"),
                (self.max_iter >= 1, f"max_iter must be >= 1, got {self.max_iter}"),
                (self.reg_param >= 0, f"reg_param must be >= 0, got {self.reg_param}"),
                (self.alpha > 0, f"alpha must be > 0, got {self.alpha}"),
                (self.min_support >= 1, f"min_support must be >= 1, got {self.min_support}"),
            ],
        )


def params_dict(params: AlsParams | RankerParams) -> dict:
    """The parameters as a JSON-ready dict (for params.json and metrics.json)."""
    return asdict(params)
