"""Example consumer of the recommendations DAG: runs when new lists are published, and reports them.

Scheduled on the ``movierec_recommendations`` asset (``dags/movierec_assets.py``): Airflow creates a run
of this DAG after each successful ``publish`` of ``movielens_recommendations`` (never after a run
that skipped, nor after a failed gate). Its one task reads the triggering event's ``extra`` (the
date, the partition's URI, the model) and reports how many users got a list and how many rows the
lists hold; a service would load them instead (e.g. into PostgreSQL for a web app). A manual run,
with no event, reports what ``recommendations/_LATEST`` names. Declarative: no I/O at parse time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task
from movierec_assets import DEFAULT_WAREHOUSE, RECOMMENDATIONS

WAREHOUSE = "{{ var.value.get('movierec_warehouse', '" + DEFAULT_WAREHOUSE + "') }}"

with DAG(
    dag_id="movielens_consumer",
    description="Reports the recommendations each publish of movielens_recommendations produced",
    schedule=RECOMMENDATIONS,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["movielens", "recommendations", "consumer"],
) as dag:

    @task(retries=2)
    def report(warehouse: str, triggering_asset_events: Any = None) -> dict[str, Any]:
        """Read the published lists the triggering event names (else ``_LATEST``'s) and report them."""
        import logging

        from movierec_assets import newest_published, published_extras, read_latest, summarize_lists

        from movierec.io.reader import WarehouseReader

        events = triggering_asset_events[RECOMMENDATIONS] if triggering_asset_events else []
        extra = newest_published([dict(event.extra) for event in events])
        if extra is None:  # a manual run: what _LATEST names now
            latest = read_latest(warehouse)
            if latest is None:
                raise ValueError(f"nothing published yet in {warehouse} (no recommendations/_LATEST)")
            extra = published_extras(latest["ds"], warehouse, latest)[RECOMMENDATIONS.name]
        reader = WarehouseReader(extra["warehouse"])
        lists = reader.read_parquet(f"recommendations/ds={extra['ds']}", columns=["user_id"])
        summary = summarize_lists(lists.column("user_id").to_pylist(), extra)
        logging.getLogger(__name__).info(
            "recommendations of %s (%s, model %s): %d users, %d rows",
            summary["ds"],
            summary["path"],
            summary["model"],
            summary["users"],
            summary["rows"],
        )
        return summary

    report(WAREHOUSE)
