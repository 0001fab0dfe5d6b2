"""What a list shows: the ranking model's picks a user is predicted to like, ordered by that prediction.

The ranking model (implicit ALS) knows *what* a user is likely to watch; the
rating model knows how much they would like it. A list ranked by the first and
labelled with the second can recommend a movie while telling the user they
will dislike it. So the published list is:

1. the ranking model's candidates in its order (several times the list length),
2. without every movie the rating model predicts below ``min_rating`` stars,
3. the first ``n`` left, then ordered by the predicted rating (ties: the ranking
   model's order), which is the published ``score``.

The set is the ranking model's (what ranking metrics mostly reward); the order
and the score are the rating model's, so ``score`` never increases down a list
and is a number a person can read. The trade-off against the ranking model's
own order is measured in docs/quality.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from movierec.core.columns import RANK, SCORE, USER_ID

if TYPE_CHECKING:
    import pandas as pd

CANDIDATES_PER_SLOT = 3  # ranking-model candidates scored per list slot, so dislikes can be replaced
MIN_RATING = 3.0  # the default: no listed movie is predicted below this many stars


def coherent_lists(candidates: pd.DataFrame, n: int, min_rating: float) -> pd.DataFrame:
    """Each user's list from their ranked candidates.

    Args:
        candidates: user_id, rank (the ranking model's order, 1 = best), score (the
            predicted rating), any other columns; one or more users.
        n: list length (fewer when too few candidates are predicted liked).
        min_rating: candidates predicted below this are never listed.

    Returns:
        The kept rows, ordered by user then score descending, ``rank`` renumbered 1..n per user.
    """
    liked = candidates[candidates[SCORE] >= min_rating].sort_values([USER_ID, RANK], kind="stable")
    first_n = liked[liked.groupby(USER_ID).cumcount() < n]
    # Ties in the predicted rating keep the ranking model's order (a stable sort on its rank).
    ordered = first_n.sort_values([USER_ID, SCORE, RANK], ascending=[True, False, True], kind="stable")
    ordered = ordered.reset_index(drop=True)
    ordered[RANK] = (ordered.groupby(USER_ID).cumcount() + 1).astype(np.int32)
    return ordered
