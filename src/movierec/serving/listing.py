"""What a list shows: the ranking model's picks a user is predicted to like, in the ranking model's order.

The ranking model (implicit ALS) knows *what* a user is likely to watch; the
rating model knows how much they would like it. A list ranked by the first and
labelled with the second can recommend a movie while telling the user they
will dislike it. So the published list is:

1. the ranking model's candidates in its order (several times the list length),
2. without every movie the rating model predicts below ``min_rating`` stars,
3. the first ``n`` left (fewer when every other movie is predicted below the
   floor: such lists stay short, counted in metrics.json and publish's log,
   :class:`ListLengths`), in the ranking model's order; the published ``score``
   is that order's calibrated chance (:mod:`movierec.serving.calibration`), so it
   never increases down a list, and ``predicted_rating`` says how much the user
   would like the movie (never below ``min_rating``).

The lists follow the ranking model's order rather than the predicted rating: the
ranking model is trained to find the movies people go on to watch, the rating
model to say how much they would like them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from movierec.core.columns import PREDICTED_RATING, RANK, USER_ID
from movierec.serving.calibration import Calibration

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame

    from movierec.models.lookup import Table

CANDIDATES_PER_SLOT = 3  # ranking-model candidates scored per list slot, so dislikes can be replaced


@dataclass(frozen=True)
class ListSettings:
    """How lists are made beyond the model itself (evaluate and publish must use the same).

    Attributes:
        min_rating: no listed movie is predicted below this many stars.
        min_user_ratings: users with fewer training ratings get the fallback list.
        calibration: ranker score -> chance (evaluate's; none: the raw score clipped to [0, 1]).
        genres: movie_id -> genres, for the fallback (None: the best-rated overall).
    """

    min_rating: float
    min_user_ratings: int
    calibration: Calibration = field(default_factory=lambda: Calibration((), ()))
    genres: Table | None = None

    @classmethod
    def default(cls, **changes: Any) -> ListSettings:
        """The settings publish uses by default (:class:`movierec.settings.ListingSettings`), with ``changes``.

        Imported here, on the driver: executors unpickle this class without the settings models.
        """
        from movierec.settings import ListingSettings

        values = {
            "min_rating": ListingSettings.default("min_predicted_rating"),
            "min_user_ratings": ListingSettings.default("min_user_ratings"),
        }
        return cls(**{**values, **changes})


@dataclass(frozen=True)
class ListLengths:
    """How many users got the ``n`` movies promised, fewer (short), or none (empty).

    A list is short when every other candidate is predicted below the floor (a harsh rater):
    the user then gets fewer movies, never one predicted disliked. The fallback list is no way
    to fill it: its movies are candidates too, and were predicted below the floor with the rest.
    """

    n: int
    users: int
    short: int
    empty: int

    def to_json(self) -> dict[str, int]:
        return {"list_length": self.n, "short_users": self.short, "empty_users": self.empty}

    def describe(self, min_rating: float) -> str:
        """One phrase for the log, e.g. ``for 943 users, 4 with fewer than 10 movies ...``."""
        full = self.users - self.short - self.empty
        if full == self.users:
            return f"for every one of the {self.users:,} users"
        return (
            f"for {full:,} of the {self.users:,} users; {self.short:,} with fewer than {self.n} movies and "
            f"{self.empty:,} with none (every other movie is predicted below {min_rating:g} stars)"
        )


def list_lengths(lists: DataFrame, users: DataFrame, n: int) -> ListLengths:
    """Count the users of ``users`` (a ``user_id`` column) whose list in ``lists`` is short or empty.

    One Spark job; ``lists`` has one row per listed movie (user_id, ...).
    """
    from pyspark.sql import functions as F

    counts = lists.groupBy(USER_ID).agg(F.count(F.lit(1)).alias("_n"))
    lengths = users.select(USER_ID).distinct().join(counts, USER_ID, "left")
    row = lengths.agg(
        F.count(F.lit(1)).alias("users"),
        F.sum(F.col("_n").isNull().cast("int")).alias("empty"),
        F.sum((F.col("_n") < n).cast("int")).alias("short"),
    ).first()
    return ListLengths(n, int(row["users"]), int(row["short"] or 0), int(row["empty"] or 0))


def liked_first_n(candidates: pd.DataFrame, n: int, min_rating: float) -> pd.DataFrame:
    """Each user's list from their ranked candidates.

    Args:
        candidates: user_id, rank (the ranking model's order, 1 = best), predicted_rating,
            any other columns; one or more users.
        n: list length (fewer when too few candidates are predicted liked).
        min_rating: candidates predicted below this are never listed.

    Returns:
        The kept rows in user then ranking order, ``rank`` renumbered 1..n per user.
    """
    liked = candidates[candidates[PREDICTED_RATING] >= min_rating].sort_values([USER_ID, RANK], kind="stable")
    first_n = liked[liked.groupby(USER_ID).cumcount() < n].reset_index(drop=True)
    first_n[RANK] = (first_n.groupby(USER_ID).cumcount() + 1).astype(np.int32)
    return first_n
