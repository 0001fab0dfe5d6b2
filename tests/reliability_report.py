"""docs/reliability.md, from a test run's results.

Each row names a bad input or a fault, the test that provokes it and what that test asserts
about the data; the outcome column is that test's result in the run (every parametrised case
counted). A pytest plugin (tests/conftest.py) records every run's outcomes in
``build/test-results/reliability.json``; ``make reliability-report`` (``python -m
tests.reliability_report``) writes the page from it, and refuses a partial run's results.
The test run itself never rewrites a committed file.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "docs" / "reliability.md"
RESULTS = REPO / "build" / "test-results" / "reliability.json"  # make test's (marker expression "not slow")
SLOW_RESULTS = REPO / "build" / "test-results" / "reliability-slow.json"  # make test-slow's ("slow")

# (group, scenario, test node ids without parameters (space-separated), what the test asserts)
ROWS = [
    (
        "bad input",
        "malformed lines: wrong field count, non-numeric ids, NaN/inf/negative/out-of-scale "
        "ratings, timestamps out of range",
        "tests/movierec/data/test_ratings.py::test_rejects_malformed_csv_lines_with_reason",
        "rejected with the reason; kept rows kept; lost 0",
    ),
    (
        "bad input",
        "CRLF line ends, UTF-8 BOM, header, trailing empty columns",
        "tests/movierec/data/test_ratings.py::test_csv_tolerates_header_bom_crlf_and_trailing_empty_columns",
        "every row kept",
    ),
    (
        "bad input",
        "unknown movie ids, duplicate (user, movie) pairs (latest kept)",
        "tests/movierec/data/test_ratings.py::test_unknown_movies_and_duplicates_are_rejected_with_reason",
        "rejected with the reason; latest duplicate kept",
    ),
    (
        "bad input",
        "rejected rows quarantined with file, line number and source line",
        "tests/movierec/data/test_ratings.py::test_rejected_rows_keep_file_and_source_line",
        "lost 0",
    ),
    (
        "bad input",
        "Latin-1 titles (u.item)",
        "tests/movierec/data/test_movies.py::test_item_decodes_latin_1",
        "decoded, kept",
    ),
    (
        "bad input",
        "a truncated ratings file (the last line cut mid-way, no newline)",
        "tests/movierec/data/test_ratings.py::test_truncated_file_keeps_whole_lines_and_rejects_the_cut_one",
        "whole lines kept; the cut one quarantined with file, line number and reason",
    ),
    (
        "bad input",
        "an empty ratings file",
        "tests/movierec/data/test_ratings.py::test_an_empty_ratings_file_stops_preprocess_with_the_reason",
        "preprocess fails: the file is empty, nothing to train on",
    ),
    (
        "bad input",
        "mixed layouts in one drop (u.data beside ratings.csv)",
        "tests/movierec/data/test_layouts.py::test_mixed_layouts_name_both_ratings_files",
        "refused, both ratings files named",
    ),
    (
        "hostile archive",
        "a truncated or corrupt zip",
        "tests/movierec/io/test_sources.py::test_truncated_zip_names_the_file_and_writes_nothing "
        "tests/movierec/io/test_sources.py::test_corrupt_zip_names_the_file "
        "tests/movierec/io/test_sources.py::test_corrupt_member_data_cleans_up",
        "refused naming the archive; nothing left extracted",
    ),
    (
        "bad input",
        "a drop with no ratings file",
        "tests/movierec/data/test_layouts.py::test_no_ratings_file_lists_what_was_found",
        "refused, names what was found",
    ),
    (
        "bad input",
        "an empty drop",
        "tests/movierec/data/test_layouts.py::test_no_ratings_file_in_empty_drop",
        "refused",
    ),
    (
        "bad input",
        "an unrecognised drop through spark-submit",
        "tests/jobs/test_jobs_submit.py::test_ingest_names_the_problem_with_an_unrecognised_drop",
        "ingest fails, message names the problem; nothing written",
    ),
    (
        "bad input",
        "rejected share above max_rejected_fraction",
        "tests/jobs/test_jobs_submit.py::test_preprocess_fails_on_a_mostly_broken_drop_and_quarantines_every_line",
        "preprocess fails; every line quarantined; lost 0",
    ),
    (
        "hostile archive",
        "zip slip: `..` and absolute entry names",
        "tests/movierec/io/test_sources.py::test_zip_slip_is_refused_and_nothing_is_written",
        "refused; nothing written",
    ),
    (
        "hostile archive",
        "symlink entries",
        "tests/movierec/io/test_sources.py::test_symlink_entry_is_refused",
        "refused",
    ),
    (
        "hostile archive",
        "zip bomb (declared size)",
        "tests/movierec/io/test_sources.py::test_zip_bomb_declared_size_is_refused",
        "refused",
    ),
    (
        "hostile archive",
        "zip bomb (lying header)",
        "tests/movierec/io/test_sources.py::test_zip_bomb_with_lying_header_is_stopped_while_streaming",
        "stopped while streaming; cleaned up",
    ),
    ("hostile archive", "too many entries", "tests/movierec/io/test_sources.py::test_too_many_entries", "refused"),
    (
        "hostile archive",
        "download larger than the limit",
        "tests/movierec/io/test_fetch.py::test_download_above_max_bytes_is_aborted",
        "aborted; no file left",
    ),
    (
        "hostile archive",
        "checksum mismatch",
        "tests/movierec/io/test_fetch.py::test_checksum_mismatch_leaves_no_file",
        "refused; no file left",
    ),
    (
        "bad parameter",
        "trigger form: rank 0, negative reg, top_n out of range, unknown source scheme, ...",
        "tests/dags/test_dag_integrity.py::test_bad_trigger_form_values_are_refused_before_any_task",
        "refused before any task runs",
    ),
    (
        "bad parameter",
        "source with an unknown scheme (job level)",
        "tests/movierec/io/test_sources.py::test_unknown_scheme_is_named",
        "refused, scheme named",
    ),
    (
        "fault",
        "preprocess killed (SIGKILL) while Spark writes",
        "tests/dags/test_faults.py::test_preprocess_killed_while_writing_keeps_the_curated_data",
        "curated rows and manifest untouched; rerun identical",
    ),
    (
        "fault",
        "publish killed (SIGKILL) while Spark writes",
        "tests/dags/test_faults.py::test_publish_killed_while_writing_keeps_the_published_lists",
        "published rows and _LATEST untouched; rerun identical",
    ),
    (
        "fault",
        "the gate fails (max_rmse tiny)",
        "tests/dags/test_dag_run.py::test_failed_gate_blocks_publish_and_keeps_published_data",
        "publish never runs; published data byte-identical",
    ),
    (
        "rerun",
        "the same date run twice through Airflow",
        "tests/dags/test_dag_run.py::test_rerun_of_the_same_date_leaves_identical_output",
        "raw, recommendations and metrics byte-identical",
    ),
    (
        "fault",
        "a commit killed between its two renames (old copy moved aside, new not yet in)",
        "tests/movierec/io/test_warehouse.py::test_a_commit_killed_between_its_renames_is_recovered_by_the_next",
        "the next commit puts the old copy back first, then replaces it; nothing left aside",
    ),
    (
        "fault",
        "the NameNode unreachable when a job starts (real HDFS, NameNode killed)",
        "tests/integration/test_stack_faults.py::test_namenode_down_at_start_fails_clearly_and_the_retry_succeeds "
        "tests/movierec/io/test_warehouse.py::test_unreachable_namenode_is_named_with_what_to_do",
        "fails at once naming the warehouse, the cause and what to do; the retry once it is back copies every byte",
    ),
    (
        "fault",
        "the DataNode killed and restarted while preprocess writes (real HDFS)",
        "tests/integration/test_stack_faults.py::test_datanode_restarted_while_preprocess_writes",
        "the curated partition stays whole throughout; after the retry its rows and manifest equal an undisturbed run",
    ),
    (
        "fault",
        "a Spark worker and its executor killed during fit (standalone cluster), worker restarted",
        "tests/integration/test_stack_faults.py::test_spark_worker_killed_during_fit",
        "fit completes on the restarted worker (or the retry does); model rows equal an undisturbed run; "
        "nothing left aside",
    ),
    (
        "fault",
        "the whole DAG on the STACK_NODES=3 loopback cluster (YARN cluster deploy mode, HDFS on 3 DataNodes), in one "
        "run: a DataNode killed, and left dead, while preprocess writes; while fit runs, its Airflow task process "
        "SIGKILLed (Airflow retries the task) and, once its executor has been given a task, the NodeManager "
        "running that executor lost with its containers, then back as a new node",
        "tests/integration/test_yarn_cluster.py::"
        "test_the_dag_on_yarn_survives_lost_nodes_and_a_lost_airflow_task_and_equals_a_local_run",
        "the run succeeds; every job one YARN application, SUCCEEDED, its driver in the ApplicationMaster; fit's in "
        "one attempt: the driver lost executor 1 and YARN ran a new executor container on the node that came "
        "back; the retry re-attached to it (durable submission): the RM lists exactly one; the old node LOST; "
        "raw bytes, curated and rejected rows equal a local run of the "
        "drop, models, lists and metrics within 1e-6; the NameNode's fsck of /warehouse: HEALTHY, 0 missing, "
        "0 corrupt blocks",
    ),
    (
        "fault",
        "a task marked failed in Airflow (REST API, as the UI's Mark as failed) while preprocess runs on YARN",
        "tests/integration/test_yarn_cluster.py::test_a_task_marked_failed_in_airflow_kills_its_yarn_application",
        "the YARN application is KILLED (the operator's on_kill through the RM's REST API), never resubmitted; "
        "the tasks after it are upstream_failed",
    ),
    (
        "rerun",
        "two publishes of the same date at the same time",
        "tests/dags/test_faults.py::test_two_concurrent_publishes_of_one_date_leave_one_whole_copy "
        "tests/movierec/io/test_warehouse.py::test_concurrent_commits_of_one_partition_leave_one_whole_copy",
        "both succeed; one whole copy equal to a single run, nothing nested or left aside; "
        "the DAG itself runs one date at a time (max_active_runs=1)",
    ),
    (
        "rerun",
        "an older date published after a newer one (backfill)",
        "tests/dags/test_faults.py::test_backfill_of_an_older_date_never_moves_latest_back",
        "its lists equal the newer run of the same drop; _LATEST stays at the newer date",
    ),
    (
        "rerun",
        "backfill of three dates (HDFS + Spark standalone + scheduler)",
        "tests/integration/test_backfill.py::test_every_date_has_its_partitions "
        "tests/integration/test_backfill.py::test_latest_points_at_the_last_date",
        "each date's partitions from its own drop; _LATEST at the last date",
    ),
    (
        "hardening",
        "#18.14a a user id out of range in the plugin's API (2^63 and more, 2^31, 0, negative)",
        "tests/plugins/test_api.py::test_a_user_id_out_of_range_is_422_naming_it_and_the_range "
        "tests/plugins/test_warehouse.py::test_a_user_id_out_of_range_is_refused_naming_it_and_the_range "
        "tests/plugins/test_warehouse.py::test_the_largest_user_id_is_looked_up "
        "tests/plugins/test_page_browser.py::test_the_plugin_api_behind_airflow_auth",
        "422 naming the id and the range 1..2147483647, before any read (2^63 was a 500); "
        "2147483647 itself is looked up (404 unknown user)",
    ),
    (
        "hardening",
        "#18.14b a date that does not exist in the plugin's API (2026-13-45, 2026-02-30, March)",
        "tests/plugins/test_api.py::test_a_date_that_does_not_exist_is_422_naming_it_and_the_format "
        "tests/plugins/test_warehouse.py::test_a_date_that_does_not_exist_is_refused_naming_it_and_the_format",
        "422 naming the value and the format YYYY-MM-DD with a real date (2026-13-45 was a 404)",
    ),
    (
        "hardening",
        "#18.14c the plugin's page: a known user looked up, then an unknown one",
        "tests/plugins/test_page_browser.py::test_a_failed_lookup_clears_the_previous_users_lists",
        "the 404 message shown; no row, id or date of the previous user left; the next lookup shows its lists",
    ),
    (
        "hardening",
        "#18.14d the plugin's API docs on an api-server with no Internet access",
        "tests/plugins/test_api.py::test_no_docs_page_that_needs_a_cdn_and_the_openapi_document_is_served "
        "tests/plugins/test_api.py::test_without_credentials_every_route_is_refused "
        "tests/plugins/test_page_browser.py::test_the_plugin_api_behind_airflow_auth",
        "no Swagger UI page loading from a CDN (/docs 404); /openapi.json served with its paths, "
        "401 without credentials",
    ),
    (
        "hardening",
        "#18.3 ratings.csv and movies.csv with their columns in another order; a header naming unknown columns",
        "tests/jobs/test_ingest_preprocess.py::test_csv_files_with_columns_in_another_order_are_read_by_name "
        "tests/jobs/test_ingest_preprocess.py::test_a_csv_header_naming_unknown_columns_stops_preprocess "
        "tests/movierec/data/test_ratings.py::test_csv_columns_are_read_by_header_name_in_any_order "
        "tests/movierec/data/test_movies.py::test_csv_columns_are_read_by_header_name_in_any_order "
        "tests/movierec/data/test_layouts.py::test_csv_header_with_unknown_or_missing_columns_is_refused",
        "every rating and title read into its own column (ids not swapped); a bad header stops preprocess "
        "naming the file, the header and the columns expected, nothing curated; lost 0",
    ),
    (
        "hardening",
        "#18.7 a source (folder, zip, file:// URI) and a warehouse whose paths hold a space and `%41`/`%20`",
        "tests/jobs/test_ingest_preprocess.py::test_source_and_warehouse_paths_with_a_space_and_a_percent_sign "
        "tests/movierec/io/test_sources.py::test_paths_with_a_space_and_percent_escapes_are_decoded_once",
        "ingest and preprocess read and write the files at those paths, escaped neither twice nor decoded twice; "
        "every line kept or rejected; lost 0",
    ),
    (
        "hardening",
        "#18.8 a UTF-16 ratings or movies file; a rejected line holding invalid UTF-8 bytes",
        "tests/jobs/test_ingest_preprocess.py::test_a_utf_16_ratings_file_stops_preprocess_saying_to_convert_it "
        "tests/jobs/test_ingest_preprocess.py::test_invalid_utf_8_in_a_rejected_line_reads_back_with_its_bytes "
        "tests/movierec/data/test_encoding.py::test_wide_encodings_are_named "
        "tests/movierec/data/test_movies.py::test_a_utf_16_catalogue_is_refused_with_what_to_convert_it_to",
        "UTF-16/32 refused whole, naming the encoding found and to convert it, nothing curated; the rejected "
        "rows read back with pandas, the line's exact bytes kept beside its text; lost 0",
    ),
    (
        "hardening",
        "#18.9 a drop whose files are symlinks to another folder (not followed)",
        "tests/jobs/test_ingest_preprocess.py::test_ingest_names_the_symlinks_it_did_not_follow "
        "tests/movierec/io/test_sources.py::test_scan_folder_names_each_link_it_skips_and_why "
        "tests/movierec/data/test_layouts.py::test_missing_files_name_the_skipped_symlinks",
        "ingest refused, naming each skipped link, its target, why, and to copy the files in; nothing written",
    ),
    (
        "hardening",
        "#18.1 fit --min-support 100000, then evaluate and publish (lists empty for every user)",
        "tests/dags/test_faults.py::test_a_min_support_no_movie_reaches_publishes_nothing "
        "tests/movierec/evaluation/test_gates.py::test_empty_lists_fail_the_absolute_gate_even_without_a_champion "
        "tests/jobs/test_publish.py::test_lists_that_leave_users_without_recommendations_are_refused",
        "fit refuses naming the most-rated movie's count, the chain stops; the gate has a floor (min_ndcg); publish "
        "refuses lists below min_coverage of the users; published rows and _LATEST untouched",
    ),
    (
        "hardening",
        "#18.2 a rerun of the published date fits a worse model and fails its gate; the next date is evaluated",
        "tests/dags/test_faults.py::test_a_failed_rerun_of_the_published_date_does_not_replace_the_champion "
        "tests/movierec/io/test_published.py::test_the_champion_copy_is_new_each_time "
        "tests/dags/test_dag_run.py::test_rerun_of_the_same_date_leaves_identical_output",
        "the next date's champion is the copy publish made of the shipped model (same RMSE and NDCG as before "
        "the failed rerun), not models/ds=D rewritten by it",
    ),
    (
        "hardening",
        "#18.4 a run for 2999-12-31; a warehouse whose _LATEST already names it",
        "tests/dags/test_faults.py::test_a_far_future_date_is_refused_and_a_published_one_stays_the_champion "
        "tests/movierec/test_cli.py::test_a_run_date_far_in_the_future_is_refused",
        "refused before anything is read or written (--max-future-days, 2); the published model is still the "
        "champion, compared and recorded whatever its date",
    ),
    (
        "hardening",
        "#18.5 a backfill of two dates with the backfill's default max_active_runs (10)",
        "tests/integration/test_backfill.py::test_the_backfill_runs_succeeded_one_after_another",
        "each date's ingest starts after the previous date's run ended (wait_for_earlier_runs), in date order",
    ),
    (
        "hardening",
        "#18.6 eight publishes of different dates racing to move _LATEST",
        "tests/movierec/io/test_published.py::test_concurrent_publishes_leave_latest_at_the_newest_date "
        "tests/movierec/io/test_published.py::test_a_swap_from_a_stale_generation_fails_and_changes_nothing",
        "compare-and-swap on the record's generation: _LATEST ends at the newest date, its paths relative to "
        "the warehouse root; a swap from a stale generation changes nothing",
    ),
    (
        "hardening",
        "#18.9 a read-only warehouse",
        "tests/movierec/io/test_warehouse.py::test_a_read_only_warehouse_is_named_with_user_and_permission",
        "refused when the job starts, naming the user, the folder, its permission and owner (was Py4J's Mkdirs failed)",
    ),
    (
        "hardening",
        "#18.10 a source that does not exist, through Airflow",
        "tests/dags/test_dag_run.py::test_a_missing_source_fails_at_once_without_retries "
        "tests/movierec/test_cli.py::test_a_retryable_error_exits_with_the_code_airflow_retries",
        "ingest fails at once (exit 3 = the user's to fix, no retry); an unreachable NameNode or a broken "
        "download still exits 1 and is retried",
    ),
    (
        "hardening",
        "#18.11 staging folders and fit checkpoints left by killed jobs",
        "tests/movierec/io/test_warehouse.py::test_stale_staging_and_checkpoints_are_removed_and_fresh_ones_kept",
        "removed by the next ingest when older than --stale-after-hours (24); fresh ones kept; a copy a killed "
        "commit moved aside is put back, not deleted",
    ),
    (
        "hardening",
        "#18.15 a run with no source (param and Variable empty), e.g. the scheduled run unpausing creates",
        "tests/dags/test_dag_run.py::test_a_run_without_a_source_is_skipped_with_the_reason",
        "every job skipped with the reason in the log; nothing failed or retried",
    ),
    (
        "hardening",
        "#18.12 the stack's Airflow (make stack-up) runs the DAG on the stack's HDFS and Spark master, "
        "and its plugin reads that HDFS",
        "tests/integration/test_ui_trigger_rest.py::test_make_stack_up_wires_airflow_to_the_stack_hdfs_and_spark "
        "tests/integration/test_ui_trigger_rest.py::test_the_run_wrote_its_partitions_into_the_stack_hdfs "
        "tests/integration/test_ui_trigger_rest.py::test_its_spark_applications_ran_on_the_standalone_master "
        "tests/integration/test_ui_trigger_rest.py::test_the_plugin_serves_the_run_from_the_stack_hdfs",
        "airflow.env names the stack's hdfs:// warehouse and spark:// master; a REST-triggered run's partitions "
        "are on that HDFS, its Spark applications FINISHED on that master; the plugin's endpoints serve "
        "that HDFS's metrics and lists",
    ),
    (
        "hardening",
        "#18.13 the demo's report on the stack's HDFS (WebHDFS as the jobs' user), and a demo step that fails",
        "tests/integration/test_ui_trigger_rest.py::test_the_report_prints_the_rmse_and_lists_from_the_stack_hdfs "
        "tests/test_demo_script.py::test_a_run_that_published_prints_its_rmse_and_lists "
        "tests/test_demo_script.py::test_a_report_that_cannot_read_the_run_fails_the_demo "
        "tests/test_demo_script.py::test_a_run_that_published_nothing_fails_the_demo "
        "tests/test_demo_script.py::test_a_failed_run_fails_the_demo_and_still_shows_its_metrics",
        "the report prints the RMSE, the gate and the lists read from HDFS; the demo exits non-zero when the "
        "run fails or the report cannot read it or finds nothing published",
    ),
    (
        "scale-out",
        "#15.1 many users, few movies: every job's driver under spark.driver.maxResultSize far below the "
        "users table, and a driver that refuses to open per-user files",
        "tests/jobs/test_driver_state.py::test_no_job_brings_a_per_user_table_to_the_driver "
        "tests/jobs/test_driver_state.py::test_the_users_table_is_bigger_than_the_driver_may_collect_and_the_movie_file_smaller",
        "fit, evaluate and publish succeed; no per-user file read on the driver; lists for every user",
    ),
    (
        "hardening",
        "#32.1 a warehouse on a small filesystem (a 10 MB tmpfs) that publish fills: no room left, or room for the "
        "lists but not their champion copy",
        "tests/jobs/test_full_disk.py::test_a_full_disk_in_publish_is_one_line_and_leaves_the_published_date_as_it_was "
        "tests/movierec/io/test_space.py::test_a_full_disk_is_found_behind_spark_and_hadoop "
        "tests/movierec/io/test_space.py::test_the_message_is_one_line_with_area_path_and_space",
        "one line naming the area, the path and the space free (and needed, where known); exit 3, not retried: a "
        "filesystem does not free itself within the retry delay and each retry refills it, so it waits for someone "
        "to free space or raise the quota, then clear the task (was a Py4J traceback, exit 1, retried); no "
        "recommendations/ds=<date> of the unpublished date (the lists are committed last) and nothing staged left; "
        "the published date's lists, champion copy and _LATEST byte-identical; once space is freed the rerun "
        "publishes and leaves no staging",
    ),
    (
        "hardening",
        "#32.2 lists shorter than top_n: every other candidate predicted below min_predicted_rating (harsh raters)",
        "tests/movierec/evaluation/test_scoring.py::test_score_model_counts_users_with_short_and_empty_lists "
        "tests/plugins/test_queries.py::test_the_runs_table_counts_short_and_empty_lists",
        "metrics.json counts users with a short and with an empty list (lists.short_users, empty_users, "
        "list_length), publish's log says so instead of 'for every user', the plugin's runs table shows both; "
        "such a user keeps the shorter list, never padded with a movie predicted disliked (the fallback's movies "
        "were predicted below the floor with the rest)",
    ),
    (
        "hardening",
        "#32.3 a gate on 3 test ratings (a 20-rating drop) or on test ratings that are all alike",
        "tests/movierec/evaluation/test_gates.py::"
        "test_a_gate_on_too_few_test_ratings_or_ranking_users_is_refused_naming_the_counts "
        "tests/movierec/evaluation/test_gates.py::test_test_ratings_that_barely_vary_are_warned_about",
        "no gate decided below min_test_ratings (100) test ratings or min_ranking_users (10) users with test movies "
        "to rank: refused (evaluate exits 3), naming the counts and the settings (it passed at RMSE 0.434); test "
        "ratings whose standard deviation is below 0.1 are warned about in the log and metrics.json",
    ),
    (
        "hardening",
        "#32.4a a user id of 2^31 (2147483648) or 20 digits in a ratings file",
        "tests/movierec/data/test_ratings.py::test_a_user_id_above_what_als_accepts_is_named_so",
        "quarantined: the id is above 2147483647 (2^31-1), the largest id Spark's ALS accepts (was: not a positive "
        "integer); lost 0",
    ),
    (
        "hardening",
        "#32.4b ratings written 4.5e0, 4e0, +4, 4., .5 or 4.5d, in each layout (100k, 1m, 10m, csv)",
        "tests/movierec/data/test_ratings.py::test_one_rating_grammar_in_every_layout",
        "one grammar in every layout, digits with an optional point and digits (4, 4.0, 3.5): the others "
        "quarantined naming it (csv read 4.5e0 and +4 as ratings); lost 0",
    ),
    (
        "hardening",
        "#32.4c a 10 kB ds in the plugin's API",
        "tests/plugins/test_queries.py::test_a_long_ds_is_cut_in_the_422 "
        "tests/plugins/test_queries.py::test_a_short_ds_is_shown_whole",
        "the 422 quotes its first 32 characters and the length (it echoed all 10 kB); a short one whole",
    ),
    (
        "hardening",
        "#32.5 `STACK_NODES=3 make stack-up` over a running single-node stack (and STACK_NODES=1 over the 3-node one)",
        "tests/test_stack_script.py::test_up_with_another_stack_nodes_over_a_running_stack_refuses_naming_what_runs "
        "tests/test_stack_script.py::test_up_with_the_running_stack_nodes_or_none_goes_on",
        "refused before anything starts (exit 1), naming the shape and daemons that run, Airflow's master and the "
        "switch (make stack-down, then STACK_NODES=3 make stack-up); nothing started or stopped (it added DataNodes, "
        "YARN and a worker beside replication 1 and the standalone master); STACK_NODES unset means the running one",
    ),
    (
        "hardening",
        "#32.6a the scheduler SIGKILLed: its LocalExecutor workers (which ignore SIGTERM), then stack-down",
        "tests/test_stack_script.py::test_stack_down_stops_the_workers_a_sigkilled_scheduler_left "
        "tests/integration/test_stack_lifecycle.py::test_a_sigkilled_scheduler_gets_one_status_and_its_workers_are_stopped",
        "stack-down stops every process left in the dead daemon's session (SIGTERM, SIGKILL after STACK_KILL_GRACE, "
        "10 s), naming each; the next start of the daemon does the same first (they outlived stack-down)",
    ),
    (
        "hardening",
        "#32.6b stack-status in the 30 s after the scheduler was SIGKILLed (the api-server still says healthy)",
        "tests/test_stack_script.py::test_status_after_the_scheduler_is_sigkilled_gives_one_answer "
        "tests/integration/test_stack_lifecycle.py::test_a_sigkilled_scheduler_gets_one_status_and_its_workers_are_stopped",
        "one answer, the process check's: `airflow-scheduler not running; N process(es) it started still run` and "
        "`scheduler=not-running(last-heartbeat-Ns-ago)` (it printed scheduler=healthy beside not running)",
    ),
    (
        "hardening",
        "#32.7 `make stack-demo` on the running stack",
        "tests/integration/test_stack_lifecycle.py::test_make_stack_demo_is_a_run_of_the_stack_scheduler_with_its_figures",
        "a manual run of the stack's own scheduler, triggered as the UI's user over /api/v2 and waited for (it ran "
        "`airflow dags test` in a separate home); it succeeds, the demo prints each task's state, the RMSE, the gate "
        "and the lists read from the warehouse the DAG wrote (the movierec_warehouse Variable when set)",
    ),
    (
        "day-2",
        "#16 retention on 20 dated runs on real HDFS with _LATEST older than keep_days; a drop created on "
        "HDFS while the sensor waits",
        "tests/integration/test_day2_on_hdfs.py::"
        "test_retention_on_twenty_dated_runs_on_hdfs_with_latest_older_than_keep_days "
        "tests/integration/test_day2_on_hdfs.py::test_the_drop_sensor_picks_up_an_hdfs_drop_created_while_it_waits",
        "exactly the kept dates remain in every area, _LATEST's date and champion kept, each removal logged; "
        "the drop is picked up",
    ),
    (
        "day-2",
        "#16.4 a publish, then a skipped run of the same drop, with the real scheduler",
        "tests/integration/test_assets_on_real_stack.py::test_a_publish_triggers_the_consumer_and_a_skipped_run_does_not",
        "one asset event naming the date, path and model; exactly one consumer run, which read the lists",
    ),
    (
        "day-2",
        "#16.5 lineage on: one DAG run with an OpenLineage http endpoint",
        "tests/dags/test_lineage.py::test_each_job_reports_the_final_paths_it_read_and_wrote_under_its_task_and_the_dag_run",
        "START and COMPLETE per job, inputs/outputs the final warehouse paths, parent the task, root the DAG run",
    ),
]


class ReliabilityRecorder:
    """pytest plugin: each test's outcomes and counted records, saved to :data:`RESULTS` at the end."""

    def __init__(self) -> None:
        self.outcomes: dict[str, Counter] = {}
        self.records: dict[str, Counter] = {}  # kept / rejected / lost, from the `records` fixture

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        test = report.nodeid.split("[", 1)[0]
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.outcomes.setdefault(test, Counter())[report.outcome] += 1
        for name, value in report.user_properties:
            if name == "records" and report.when == "call":
                self.records.setdefault(test, Counter()).update(value)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(session.config, "workerinput"):
            return  # an xdist worker: its reports reach the controller, which writes the file
        target = SLOW_RESULTS if session.config.option.markexpr.strip() == "slow" else RESULTS
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            json.dumps(
                {
                    "finished": f"{datetime.now(UTC):%Y-%m-%d}",
                    "outcomes": {test: dict(c) for test, c in self.outcomes.items()},
                    "records": {test: dict(c) for test, c in self.records.items()},
                },
                indent=1,
                sort_keys=True,
            )
        )


def missing_tests(outcomes: dict) -> list[str]:
    """The listed tests a run did not run (a partial run cannot write the page)."""
    return [test for _, _, tests, _ in ROWS for test in tests.split() if test not in outcomes]


def in_item_order(rows: list[tuple]) -> list[tuple]:
    """The rows as listed, the hardening ones sorted by round and item number (#18.2 before #18.10 before #32.1)."""

    def item(row: tuple) -> tuple[int, int, str]:
        round_, number = row[1].split()[0].removeprefix("#").split(".", 1)
        digits = "".join(c for c in number if c.isdigit())
        return int(round_), int(digits), number[len(digits) :]

    hardening = [row for row in rows if row[0] == "hardening"]
    return [row for row in rows if row[0] != "hardening"] + sorted(hardening, key=item)


def merged(runs: list[dict]) -> dict:
    """Several runs' results as one (a test in more than one: the later run's), with every run's finishing day."""
    return {
        "finished": " and ".join(dict.fromkeys(run["finished"] for run in runs)),
        "outcomes": {test: c for run in runs for test, c in run["outcomes"].items()},
        "records": {test: c for run in runs for test, c in run["records"].items()},
    }


def render(results: dict) -> str:
    """The page, from :class:`ReliabilityRecorder`'s saved results."""
    outcomes = {test: Counter(c) for test, c in results["outcomes"].items()}
    records_by_test = {test: Counter(c) for test, c in results["records"].items()}
    lines = [
        "# Reliability: bad input, faults and reruns",
        "",
        "Written by `make reliability-report` (tests/reliability_report.py) from the results of a `make test` "
        f"run and a `make test-slow` run (its slow tier), finished on {results['finished']}. Each row: "
        "the scenario, the test that provokes it, what the test asserts, the records it counted "
        "(kept / rejected / lost, summed over its cases; lost = records neither kept nor quarantined, "
        "or published rows that changed or vanished) and its outcome in that run. A dash: the input is refused "
        "before any record is read, and nothing is written. Each hardening row's test failed on the code "
        "before its fix.",
        "",
        "| group | scenario | test | asserted | records kept / rejected / lost | outcome |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for group, scenario, tests, asserted in in_item_order(ROWS):
        counts = sum((outcomes[test] for test in tests.split()), Counter())
        outcome = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
        shown = "<br>".join(f"`{test}`" for test in tests.split())
        records = sum((records_by_test.get(test, Counter()) for test in tests.split()), Counter())
        counted = f"{records['kept']:,} / {records['rejected']:,} / {records['lost']:,}" if records else "—"
        shown_scenario = scenario.split(" ", 1)[1] if scenario.startswith("#") else scenario  # no sort key
        lines.append(f"| {group} | {shown_scenario} | {shown} | {asserted} | {counted} | {outcome} |")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Write docs/reliability.md from results files (default: the last make test's and make test-slow's)."""
    sources = [Path(a) for a in argv] if argv else [RESULTS, SLOW_RESULTS]
    absent = [s for s in sources if not s.exists()]
    if absent:
        print(f"{absent[0]} does not exist: run `make test` and `make test-slow` first", file=sys.stderr)
        return 2
    results = merged([json.loads(s.read_text()) for s in sources])
    missing = missing_tests(results["outcomes"])
    if missing:
        print(
            f"{', '.join(map(str, sources))}: {len(missing)} listed tests did not run, e.g. {missing[0]}; "
            "run the whole `make test` and `make test-slow`",
            file=sys.stderr,
        )
        return 2
    TARGET.write_text(render(results))
    print(f"wrote {TARGET.relative_to(REPO)} from {', '.join(map(str, sources))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
