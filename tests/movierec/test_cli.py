from __future__ import annotations

import argparse

import pytest

from movierec import cli
from movierec.core.errors import PipelineError


def test_ds_must_be_a_whole_date():
    assert cli.ds_type("2026-12-01") == "2026-12-01"
    for bad in ("2026-13-01", "2026-1-1", "yesterday"):
        with pytest.raises(argparse.ArgumentTypeError, match="YYYY-MM-DD"):
            cli.ds_type(bad)


def test_a_pipeline_error_in_the_config_or_the_job_exits_1_with_the_message(caplog):
    parser = cli.base_parser("test")

    def refuse(args):
        raise PipelineError(f"bad value for {args.ds}")

    code = cli.run("job", parser, refuse, lambda config: None, ["--ds", "2026-01-01", "--warehouse", "file:///x"])
    assert code == 1 and "job failed: bad value for 2026-01-01" in caplog.text
    ran = []
    assert cli.run("job", parser, lambda a: a.ds, ran.append, ["--ds", "2026-01-01", "--warehouse", "w"]) == 0
    assert ran == ["2026-01-01"]
