from __future__ import annotations

import errno

import pytest

from movierec.io import space


class JavaError:
    """A stand-in for a Java exception behind Py4J: class name, message, cause."""

    def __init__(self, name: str, message: str, cause: JavaError | None = None) -> None:
        self.name, self.message, self.cause = name, message, cause

    def getClass(self):  # noqa: N802 - Java's name
        return self

    def getName(self):  # noqa: N802
        return self.name

    def getMessage(self):  # noqa: N802
        return self.message

    def getCause(self):  # noqa: N802
        return self.cause

    def __getattr__(self, name: str):
        return lambda *args: None  # as py4j: every attribute of a Java object exists (a method)


class Py4JLike(Exception):
    def __init__(self, java: JavaError) -> None:
        super().__init__("An error occurred while calling o985.save")
        self.java_exception = java


SPARK_WRITE = Py4JLike(
    JavaError(
        "org.apache.spark.SparkException",
        "[TASK_WRITE_FAILED] Task failed while writing rows to file:/mnt/wh/recommendations/_staging/ds=x-1. "
        "SQLSTATE: 58030",
        JavaError("org.apache.hadoop.fs.FSError", "java.io.IOException: No space left on device"),
    )
)


def test_a_full_disk_is_found_behind_spark_and_hadoop():
    assert space.no_space_cause(SPARK_WRITE) == "FSError: java.io.IOException: No space left on device"
    assert space.written_path(SPARK_WRITE) == "file:/mnt/wh/recommendations/_staging/ds=x-1"
    quota = Py4JLike(
        JavaError(
            "org.apache.hadoop.hdfs.protocol.DSQuotaExceededException",
            "The DiskSpace quota of /wh is exceeded: quota = 1048576 B = 1 MB but diskspace consumed = 3 MB",
        )
    )
    assert space.no_space_cause(quota).startswith("DSQuotaExceededException: The DiskSpace quota of /wh")
    wrapped = RuntimeError("while copying")
    wrapped.__cause__ = OSError(errno.ENOSPC, "No room")
    assert space.no_space_cause(wrapped) == "OSError: [Errno 28] No room"
    other = Py4JLike(JavaError("java.io.FileNotFoundException", "/wh/x does not exist"))
    assert space.no_space_cause(other) is None
    assert space.no_space_error(other, "file:///wh") is None


@pytest.mark.parametrize(
    ("path", "area"),
    [
        ("file:/mnt/wh/recommendations/_staging/ds=x-1", "recommendations"),
        ("file:///mnt/wh/published/ds=2026-01-01/_staging/a", "published"),
        ("hdfs://nn:8020/mnt/wh/raw/movielens/ds=2026-01-01/u.data", "raw/movielens"),
        ("file:/tmp/blockmgr-1/00/shuffle_0", "outside the warehouse"),
    ],
)
def test_the_area_is_named(path, area):
    assert space.area_of("file:///mnt/wh", path) == area


def test_the_message_is_one_line_with_area_path_and_space():
    text = space.message(
        "FSError: java.io.IOException: No space left on device",
        "file:///mnt/wh",
        "file:/mnt/wh/published/ds=2026-01-02/_staging/x/users",
        4096,
        8_000_000,
        1_500_000,
    )
    assert "\n" not in text
    assert text.startswith(
        "no space left writing published (file:/mnt/wh/published/ds=2026-01-02/_staging/x/users): "
        "4.1 kB free of 8.0 MB; it needs 1.5 MB (FSError: java.io.IOException: No space left on device). "
    )
    assert "clear the task" in text
    error = space.no_space_error(SPARK_WRITE, "file:///mnt/wh", hadoop=None)
    assert error is not None and error.exit_code == 3  # not retried: see the module's Notes
    assert str(error).startswith("no space left writing recommendations (file:/mnt/wh/recommendations/_staging/")
