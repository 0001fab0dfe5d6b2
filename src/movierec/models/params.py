"""The knobs of the two models, as the model code takes them; defaults and bounds are the fit job's settings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from movierec.core.errors import PipelineError
from movierec.settings import FitSettings

_FIT = FitSettings.default


def _check(kind: str, checks: list[tuple[bool, str]]) -> None:
    for ok, message in checks:
        if not ok:
            raise PipelineError(f"invalid {kind} parameter: {message}")


@dataclass(frozen=True)
class AlsParams:
    """Every knob of the rating model.

    The defaults are :class:`movierec.settings.FitSettings`'s (the knob of the same name).

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

    rank: int = _FIT("rank")
    max_iter: int = _FIT("max_iter")
    reg_param: float = _FIT("reg_param")
    nonnegative: bool = _FIT("nonnegative")
    seed: int = _FIT("seed")
    bias_reg: float = _FIT("bias_reg")
    bias_passes: int = _FIT("bias_passes")
    backfit: int = _FIT("backfit")
    profile_reg: float = _FIT("profile_reg")
    profile_weight: float = _FIT("profile_weight")
    checkpoint_interval: int = _FIT("checkpoint_interval")

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

    The defaults are :class:`movierec.settings.FitSettings`'s (``ranker_rank``... for the ALS knobs
    the rating model shares a name with).

    Attributes:
        rank: number of latent factors.
        max_iter: ALS iterations.
        reg_param: ALS regularisation (scaled by counts).
        alpha: confidence of an observed rating: ``1 + alpha * rating``.
        seed: ALS initialisation seed.
        min_support: movies with fewer training ratings are never recommended.
    """

    rank: int = _FIT("ranker_rank")
    max_iter: int = _FIT("ranker_max_iter")
    reg_param: float = _FIT("ranker_reg_param")
    alpha: float = _FIT("alpha")
    seed: int = _FIT("seed")
    min_support: int = _FIT("min_support")

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


def _picked(settings: FitSettings, names: dict[str, str]) -> dict[str, Any]:
    return {name: getattr(settings, source) for name, source in names.items()}


def als_params(settings: FitSettings) -> AlsParams:
    """The rating model's knobs of the fit job's settings (same names)."""
    return AlsParams(**_picked(settings, {f.name: f.name for f in fields(AlsParams)}))


def ranker_params(settings: FitSettings) -> RankerParams:
    """The ranking model's knobs: ``ranker_<name>`` where the rating model has a knob of that name."""
    shared = {f.name: f"ranker_{f.name}" for f in fields(RankerParams)}
    own = {name: prefixed if prefixed in FitSettings.model_fields else name for name, prefixed in shared.items()}
    return RankerParams(**_picked(settings, own))
