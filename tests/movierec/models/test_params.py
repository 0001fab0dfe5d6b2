from __future__ import annotations

import pytest

from movierec.core.errors import PipelineError
from movierec.models.params import AlsParams, RankerParams


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"rank": 0}, "rank"), ({"profile_weight": 1.5}, "profile_weight"), ({"backfit": -1}, "backfit")],
)
def test_invalid_parameters_name_the_field(kwargs, field):
    with pytest.raises(PipelineError, match=field):
        AlsParams(**kwargs)


def test_min_support_must_be_positive():
    with pytest.raises(PipelineError, match="min_support"):
        RankerParams(min_support=0)
