"""Airflow plugin "movierec": recommendations and model quality inside the Airflow UI.

- a FastAPI app under ``/movierec`` (JSON API + page), behind Airflow's auth;
- a top-level nav entry "Recommendations" showing the page inside the UI (``/plugin/movierec``);
- extra links on every SparkSubmitOperator task (and the DAG's JobOperator subclass): "Spark UI" and "Output folder".

See docs/operating.md, "The Recommendations page in the Airflow UI".
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from movierec_ui.api import URL_PREFIX, app
from movierec_ui.links import OutputFolderLink, SparkUILink


class MovierecPlugin(AirflowPlugin):
    """Registers the app, the nav entry and the extra links."""

    name = "movierec"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "movierec recommendations"}]
    external_views = [
        {
            "name": "Recommendations",
            "href": f"{URL_PREFIX}/ui",
            "url_route": "movierec",  # shown inside the Airflow UI at /plugin/movierec
            "destination": "nav",
            "nav_top_level": True,  # its own button in the left navigation bar, not under "Plugins"
        }
    ]
    operator_extra_links = [SparkUILink(), OutputFolderLink()]
