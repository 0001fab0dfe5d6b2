"""The project's exception types and the exit codes the jobs end with."""

from __future__ import annotations

# Exit codes of a job's main(): Airflow's operator (dags/movierec_operators.py) retries only EXIT_RETRYABLE.
EXIT_OK = 0
EXIT_RETRYABLE = 1
EXIT_USER_ERROR = 3
# Not an error: ingest found the drop and the settings equal to the published run's, so the rest of the
# run would recompute the same lists; the operator marks ingest done and the DAG skips the rest.
EXIT_UNCHANGED = 4


class PipelineError(Exception):
    """A problem the pipeline detected and can explain, that a retry would not fix.

    Messages name the value, what was expected and what to do, so that the
    Airflow task log alone is enough to act on. Bad input, bad settings and a
    failed gate are the user's to fix: the job exits with :data:`EXIT_USER_ERROR`
    and the task fails at once, without retries.
    """

    exit_code = EXIT_USER_ERROR


class RetryableError(PipelineError):
    """A problem of the moment (an unreachable NameNode, a broken download): a retry may succeed."""

    exit_code = EXIT_RETRYABLE
