"""The models: a rating model (biases + ALS + taste profiles) and a ranking model.

Plain Spark ALS has no bias terms and does not use *which* movies a user
rated, only how they rated them; on sparse data it loses even to a bias-only
baseline. The rating model here predicts

``(1 - w) * (mu + b_user + b_movie + p_user . q_movie) + w * (mu0 + b0_user + b0_movie + z_user . y_movie)``

clipped to the rating scale, where:

- ``mu0 + b0_user + b0_movie`` is the baseline: the training mean and damped
  means of the residuals (shrunk towards 0 by ``bias_reg`` pseudo-ratings),
  movies then users, alternated ``bias_passes`` times (Koren's baseline
  predictors).
- ``p . q`` is Spark ALS fitted on the baseline's residuals. With ``backfit``
  the biases are then refitted on what ALS leaves and ALS refitted on the new
  residuals (``mu + b_user + b_movie``): a step towards fitting both jointly.
- ``y_movie`` are the movie factors of the *ranking model*: implicit-feedback
  ALS on the same ratings (who rated what, confidence ``1 + alpha * rating``).
  They place movies by the audiences they share. ``z_user`` is a per-user
  ridge regression of the user's baseline residuals on those factors: the
  user's taste profile in that space (the implicit-feedback idea of SVD++ and
  asymmetric factor models, fitted in closed form).
- ``w`` is ``profile_weight``; 0 gives biases + ALS alone.

Unknown users or movies fall back to the terms they have (0 for the unknown
side), never to NaN, and are counted by the evaluation (:mod:`movierec.serving.predict`).

The ranking model (the implicit ALS) orders the top-N lists: it predicts
*what* a user will watch, which is what lists are judged on; the rating model
predicts how much they will like it and is reported as the lists' score.

The pieces live in their own modules: :mod:`~movierec.models.biases`,
:mod:`~movierec.models.als`, :mod:`~movierec.models.profiles`; writing and
reading them: :mod:`~movierec.models.persistence`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from movierec.core.columns import MOVIE_ID, PREDICTION, RATING, USER_ID
from movierec.io.spark import run_side_by_side
from movierec.models.als import fit_als, fit_ranker, with_als_prediction
from movierec.models.biases import Biases, fit_biases, residuals
from movierec.models.profiles import fit_profiles

if TYPE_CHECKING:
    from pyspark.ml.recommendation import ALSModel
    from pyspark.sql import DataFrame

    from movierec.models.params import AlsParams, RankerParams


@dataclass(frozen=True)
class Model:
    """Everything fit writes to ``models/ds=<ds>/``.

    Attributes:
        als: explicit ALS on the residuals of ``biases``.
        biases: the biases the ALS term goes with (backfitted).
        baseline: the plain baseline the profiles are fitted on.
        ranker: the ranking model (implicit ALS).
        profiles: user_id, features (the taste profiles).
        profile_weight: share of the profile term in the prediction.
        min_support: training ratings a movie needs to be recommended.
    """

    als: ALSModel
    biases: Biases
    baseline: Biases
    ranker: ALSModel
    profiles: DataFrame
    profile_weight: float
    min_support: int


def fit_model(
    train: DataFrame,
    params: AlsParams,
    ranker_params: RankerParams,
    ranker: ALSModel | None = None,
    parallelism: int = 1,
) -> Model:
    """Fit the whole rating + ranking model on ``train`` (user_id, movie_id, rating).

    Args:
        train: the training ratings.
        params: rating-model knobs.
        ranker_params: ranking-model knobs.
        ranker: an already fitted ranking model on the same ``train`` (the
            hyperparameter search reuses one across its grid).
        parallelism: 2 fits the ranking model beside the rating model (they are
            independent): Spark interleaves their jobs, which are mostly small
            (measured in docs/performance.md).
    """
    train = train.select(USER_ID, MOVIE_ID, RATING).cache()

    def rating_model() -> tuple[Biases, DataFrame, ALSModel, Biases]:
        baseline = fit_biases(train, params.bias_reg, params.bias_passes).cache()
        base_res = residuals(train, baseline).cache()
        als, biases = fit_als(base_res, params), baseline
        for _ in range(params.backfit):
            explained = with_als_prediction(train, als)
            biases = fit_biases(explained, params.bias_reg, params.bias_passes, offset=PREDICTION).cache()
            als = fit_als(residuals(train, biases).cache(), params)
        return baseline, base_res, als, biases

    if ranker is None:
        ranker, (baseline, base_res, als, biases) = run_side_by_side(
            [lambda: fit_ranker(train, ranker_params), rating_model], parallelism
        )
    else:
        baseline, base_res, als, biases = rating_model()
    profiles = fit_profiles(base_res, ranker, params.profile_reg).cache()
    return Model(als, biases, baseline, ranker, profiles, params.profile_weight, ranker_params.min_support)
