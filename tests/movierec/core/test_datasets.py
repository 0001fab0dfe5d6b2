from __future__ import annotations

import pytest

from movierec.core.datasets import JOBS, Datasets, job_datasets

WH, DS = "hdfs://nn:8020/wh", "2026-03-01"


def test_each_job_reads_what_the_one_before_it_wrote():
    ingest, preprocess, fit, evaluate, publish = (job_datasets(job, WH, DS, "/drops/2026-03-01") for job in JOBS)
    assert ingest == Datasets(("/drops/2026-03-01",), (f"{WH}/raw/movielens/ds={DS}",))
    assert preprocess.inputs == ingest.outputs
    assert set(fit.inputs) <= set(preprocess.outputs)
    assert set(evaluate.inputs) - set(preprocess.outputs) - set(fit.outputs) == {f"{WH}/recommendations/_LATEST"}
    assert set(publish.inputs) <= {*preprocess.outputs, *fit.outputs, *evaluate.outputs}
    assert publish.outputs == (
        f"{WH}/recommendations/ds={DS}",
        f"{WH}/published/ds={DS}",
        f"{WH}/recommendations/_LATEST",
    )


def test_paths_are_final_never_staging():
    for job in JOBS:
        datasets = job_datasets(job, WH + "/", DS, "/drop")
        assert not any("_staging" in uri or "//ds" in uri for uri in datasets.inputs + datasets.outputs)


def test_unknown_job_or_ingest_without_source_is_refused():
    with pytest.raises(ValueError, match="unknown job 'cleanup'"):
        job_datasets("cleanup", WH, DS)
    with pytest.raises(ValueError, match="ingest's datasets need its source"):
        job_datasets("ingest", WH, DS)
