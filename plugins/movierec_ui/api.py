"""The plugin's FastAPI app, mounted by the Airflow api-server under ``/movierec``.

Routes (all behind Airflow's own authentication: the UI's ``_token`` cookie or an
``Authorization: Bearer <JWT>`` header from ``POST /auth/token``; the caller must
be allowed to read the ``movielens_recommendations`` DAG):

- ``GET /movierec/api/recommendations/{user_id}?ds=YYYY-MM-DD``: the user's top-N
  and highest-rated movies (``ds`` defaults to the date in ``recommendations/_LATEST``);
  404 with a message for an unknown user or date;
- ``GET /movierec/api/metrics``: the gate's metrics and row counts per date;
- ``GET /movierec/ui``: the page shown in the Airflow UI (chart + user lookup);
- ``GET /movierec/openapi.json``: the OpenAPI document of these routes.

Errors: 401 without credentials, 403 with an invalid token or without access to the
DAG, 404 for what the warehouse does not hold, 422 for a user id that is not an integer
from 1 to 2^31 - 1 or a date that is not a real YYYY-MM-DD date, 503 when the warehouse
is not configured or not readable.

Notes:
    No interactive docs page (``/docs``): FastAPI's Swagger UI loads its script and style
    from a CDN, a blank page on an api-server without Internet access, and no installed
    package ships those files. The OpenAPI document is served, behind the same
    authentication as every other route.
"""

from __future__ import annotations

import logging
from importlib.resources import files
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse

from movierec_ui import queries
from movierec_ui.warehouse import (
    InvalidRequestError,
    NotFoundError,
    WarehouseError,
    WarehouseReader,
    reader_from_config,
)

log = logging.getLogger(__name__)

DAG_ID = "movielens_recommendations"
URL_PREFIX = "/movierec"


async def _current_user(request: Request) -> Any:
    """Airflow's own authentication (imported lazily: Airflow's API modules are heavy)."""
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi.security import HTTPBearer

    credentials = await HTTPBearer(auto_error=False)(request)
    return await get_user(request, None, credentials)


async def require_reader(user: Annotated[Any, Depends(_current_user)]) -> Any:
    """Let through users who may read the DAG whose output is shown (e.g. SimpleAuthManager's viewer role).

    Raises:
        HTTPException: 403 when the user may not read the DAG.
    """
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails

    if not get_auth_manager().is_authorized_dag(method="GET", details=DagDetails(id=DAG_ID), user=user):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"user {user.get_name()!r} may not read the DAG {DAG_ID}, whose output this shows; "
            "ask an Airflow admin for read access to it",
        )
    return user


def get_reader() -> WarehouseReader:
    """The configured warehouse (a dependency, so tests can point it elsewhere)."""
    return reader_from_config()


Reader = Annotated[WarehouseReader, Depends(get_reader)]


def _page() -> str:
    return files("movierec_ui").joinpath("page.html").read_text(encoding="utf-8")


def create_app() -> FastAPI:
    """Build the app; every route requires an Airflow user who may read the DAG."""
    app = FastAPI(
        title="movierec: recommendations and model quality",
        description=__doc__,
        dependencies=[Depends(require_reader)],
        # No Swagger UI / ReDoc (they load from a CDN, see Notes); FastAPI's own /openapi.json
        # route would skip the app's dependencies, so it is served below as an ordinary route.
        docs_url=None,
        openapi_url=None,
        redoc_url=None,
    )

    @app.exception_handler(NotFoundError)
    async def not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_404_NOT_FOUND)

    @app.exception_handler(InvalidRequestError)
    async def invalid(_: Request, exc: InvalidRequestError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(WarehouseError)
    async def unreadable(_: Request, exc: WarehouseError) -> JSONResponse:
        log.warning("warehouse error: %s", exc)
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)

    @app.get("/api/recommendations/{user_id}", summary="A user's top-N and highest-rated movies")
    def recommendations(
        user_id: Annotated[int, Path(description=f"{queries.USER_ID_MIN} to {queries.USER_ID_MAX}")],
        reader: Reader,
        ds: Annotated[str | None, Query(description="run date, YYYY-MM-DD; default: the latest published")] = None,
    ) -> dict[str, Any]:
        # Range and date checked by queries (422 naming the value), before any read.
        return queries.user_recommendations(reader, user_id, ds)

    @app.get("/api/metrics", summary="The gate's metrics and row counts per date, oldest first")
    def metrics(reader: Reader) -> dict[str, Any]:
        history = queries.metrics_history(reader)
        return {"warehouse": reader.uri, "latest_ds": reader.latest_ds(), "runs": history}

    @app.get("/ui", response_class=HTMLResponse, summary="The page shown in the Airflow UI")
    def page() -> HTMLResponse:
        return HTMLResponse(_page())

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(request: Request) -> dict[str, Any]:
        # Mounted under /movierec: the paths resolve against that prefix (as FastAPI's own route does).
        root = request.scope.get("root_path", "").rstrip("/")
        return {**app.openapi(), "servers": [{"url": root}]} if root else app.openapi()

    return app


app = create_app()
