"""The plugin's FastAPI app on a warehouse written by real DAG runs (``dag_warehouse``).

The app is the one the api-server mounts, called with FastAPI's TestClient. Authentication
is exercised both ways: without credentials the request is refused before anything is read;
the data tests then replace only the token decoding (``_current_user``) by a user of a given
role, so the authorization check itself (may this user read the DAG?) stays real. Real JWTs
from ``/auth/token`` are tested against the running api-server in test_page_browser.py.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from movierec.io.reader import WarehouseReader
from movierec.serving.layout import ROW_GROUP_BYTES, bucket_dir
from movierec_ui import api, queries
from tests.plugins.conftest import D1, D2, TOP_N, DagWarehouse

pytestmark = pytest.mark.integration
USER = 1


@pytest.fixture(scope="module")
def app(dag_warehouse: DagWarehouse):
    from airflow.api_fastapi.app import create_auth_manager

    create_auth_manager()  # what the api-server does at start-up (SimpleAuthManager by default)
    app = api.create_app()
    mp = pytest.MonkeyPatch()
    mp.setenv("AIRFLOW_VAR_MOVIEREC_WAREHOUSE", dag_warehouse.warehouse.as_uri())  # as the DAG reads it
    yield app
    mp.undo()


def as_role(app, role: str | None) -> TestClient:
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    app.dependency_overrides[api._current_user] = lambda: SimpleAuthManagerUser(username=f"a-{role}", role=role)
    return TestClient(app)


@pytest.fixture
def client(app) -> TestClient:
    yield as_role(app, "viewer")
    app.dependency_overrides.clear()


@pytest.mark.parametrize("path", ["/api/metrics", f"/api/recommendations/{USER}", "/ui", "/openapi.json"])
def test_without_credentials_every_route_is_refused(app, path):
    app.dependency_overrides.clear()
    resp = TestClient(app).get(path)
    assert resp.status_code == 401 and resp.json() == {"detail": "Not authenticated"}
    resp = TestClient(app).get(path, headers={"Authorization": "Bearer not-a-jwt"})
    assert resp.status_code == 403 and resp.json() == {"detail": "Invalid JWT token"}


def test_a_user_without_a_role_may_not_read(app):
    resp = as_role(app, None).get("/api/metrics")
    app.dependency_overrides.clear()
    assert resp.status_code == 403
    assert "may not read the DAG movielens_recommendations" in resp.json()["detail"]


def test_recommendations_of_a_known_user(client, dag_warehouse):
    resp = client.get(f"/api/recommendations/{USER}")
    assert resp.status_code == 200
    body = resp.json()
    assert (body["user_id"], body["ds"]) == (USER, D1)  # default: the _LATEST date
    recs = body["recommendations"]
    assert [r["rank"] for r in recs] == list(range(1, TOP_N + 1))
    assert all(r["title"] and isinstance(r["score"], float) for r in recs)
    # Lists are ordered by score (the calibrated chance), none predicted a dislike, each with its reason.
    assert all(0.0 <= r["score"] <= 1.0 for r in recs)
    assert [r["score"] for r in recs] == sorted((r["score"] for r in recs), reverse=True)
    assert all(3.0 <= r["predicted_rating"] <= 5.0 and r["reason"] and r["source"] == "model" for r in recs)
    rated = dag_warehouse.ratings_of(USER)
    assert not {r["movie_id"] for r in recs} & set(rated), "recommended a movie the user already rated"
    top = body["top_rated"]
    assert 0 < len(top) <= 10 and all(t["title"] for t in top)
    assert [t["rating"] for t in top] == sorted(rated.values(), reverse=True)[: len(top)]
    assert all(rated[t["movie_id"]] == t["rating"] for t in top)


def test_explicit_date_gives_the_same_answer(client):
    assert (
        client.get(f"/api/recommendations/{USER}", params={"ds": D1}).json()
        == client.get(f"/api/recommendations/{USER}").json()
    )


def test_unknown_user_is_404_with_a_message(client):
    resp = client.get("/api/recommendations/987654")
    assert resp.status_code == 404
    assert resp.json()["detail"].startswith(f"user 987654 has no recommendations for ds={D1}: unknown user")


@pytest.mark.parametrize("ds", ["2019-12-31", D2])  # D2 was evaluated, but the gate stopped its publication
def test_unknown_or_unpublished_date_is_404_with_a_message(client, ds):
    resp = client.get(f"/api/recommendations/{USER}", params={"ds": ds})
    assert resp.status_code == 404
    assert resp.json() == {"detail": f"no recommendations published for ds={ds}; published dates: {D1}"}


@pytest.mark.parametrize(
    ("path", "params"), [("/api/recommendations/abc", {}), (f"/api/recommendations/{USER}", {"ds": "March"})]
)
def test_malformed_user_or_date_is_422(client, path, params):
    assert client.get(path, params=params).status_code == 422


@pytest.mark.parametrize("user_id", [2**63, 2**64, -(2**63) - 1, 2**31, 0, -1])
def test_a_user_id_out_of_range_is_422_naming_it_and_the_range(client, user_id):
    resp = client.get(f"/api/recommendations/{user_id}")  # 2**63 was a 500 (pyarrow's OverflowError)
    assert resp.status_code == 422
    assert resp.json() == {
        "detail": f"user_id={user_id} is out of range: user ids are integers from 1 to 2147483647 "
        "(the ids preprocess keeps); check the id"
    }


@pytest.mark.parametrize("ds", ["2026-13-45", "2026-02-30", "March"])
def test_a_date_that_does_not_exist_is_422_naming_it_and_the_format(client, ds):
    resp = client.get(f"/api/recommendations/{USER}", params={"ds": ds})  # 2026-13-45 was a 404
    assert resp.status_code == 422
    assert resp.json() == {
        "detail": f"ds={ds!r} is not a date: expected YYYY-MM-DD with a real month and day, e.g. 2026-03-01"
    }


def test_no_docs_page_that_needs_a_cdn_and_the_openapi_document_is_served(client):
    # FastAPI's Swagger UI loads its script and style from a CDN: a blank page offline. It is off.
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404
    resp = client.get("/openapi.json")
    assert resp.status_code == 200
    schema = resp.json()
    assert set(schema["paths"]) == {"/api/recommendations/{user_id}", "/api/metrics", "/ui"}
    params = {p["name"]: p for p in schema["paths"]["/api/recommendations/{user_id}"]["get"]["parameters"]}
    assert params["user_id"]["description"] == "1 to 2147483647" and "YYYY-MM-DD" in params["ds"]["description"]


def test_metrics_per_date(client, dag_warehouse):
    resp = client.get("/api/metrics")
    assert resp.status_code == 200
    body = resp.json()
    assert body["warehouse"] == dag_warehouse.warehouse.as_uri() and body["latest_ds"] == D1
    first, second = body["runs"]
    assert (first["ds"], first["passed"], first["published"], first["latest"]) == (D1, True, True, True)
    assert (second["ds"], second["passed"], second["published"], second["max_rmse"]) == (D2, False, False, 0.01)
    for run in body["runs"]:
        assert 0 < run["rmse"] < 2 and 0 < run["mae"] < run["rmse"] and 0 <= run["ndcg_at_10"] <= 1
        assert run["rows_kept"] == 10_000 and run["rows_rejected"] == 0 and run["rating_lines"] == 10_000
    assert first["rmse"] == second["rmse"]  # same drop, same seed: only the threshold differs


def test_the_page_is_self_contained(client):
    resp = client.get("/ui")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    html = resp.text
    assert "fetch(url" in html and '"api/metrics"' in html and "api/recommendations/" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")  # no CDN, no external resource
    assert "https://" not in html


# ---- the serving layout: what a lookup reads ------------------------------------------------------


def test_the_serving_table_answers_as_the_whole_partition_did(client, dag_warehouse):
    # Contract: for every user, the same JSON (fields and values) as when the API read the whole lists
    # partition and the curated ratings of the date (the way a date published before the layout is read).
    reader = WarehouseReader(dag_warehouse.warehouse.as_uri())
    users = sorted(dag_warehouse.rated())
    assert (dag_warehouse.warehouse / bucket_dir(f"recommendations/ds={D1}", users[0])).is_dir()
    for user in users:
        served = client.get(f"/api/recommendations/{user}")
        assert served.status_code == 200, served.text
        before = json.loads(json.dumps(queries.legacy_user_recommendations(reader, user, D1)))
        assert served.json() == before, f"user {user}"


class Recording(WarehouseReader):
    """A reader that keeps the paths whose content it fetched."""

    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.fetched: list[str] = []

    def read_bytes(self, path: str) -> bytes:
        self.fetched.append(path)
        return super().read_bytes(path)

    def open(self, path: str, size: int | None = None):
        self.fetched.append(path)
        return super().open(path, size)


def test_one_lookup_reads_one_row_group_and_never_the_curated_data(dag_warehouse):
    uri = dag_warehouse.warehouse.as_uri()
    first = Recording(uri)
    queries.user_recommendations(first, USER)
    assert first.bytes_read < 1024 * 1024, "a first lookup (footer included) over 1 MiB"
    assert not [path for path in first.fetched if path.startswith("curated/")]
    then = Recording(uri)  # the footer is cached now, as in a running api-server
    queries.user_recommendations(then, USER + 1)
    bound = 2 * ROW_GROUP_BYTES + 4096  # one row group, and _LATEST
    assert then.bytes_read < bound, f"one lookup read {then.bytes_read:,} bytes, over {bound:,}"
    legacy = WarehouseReader(uri)
    queries.legacy_user_recommendations(legacy, USER, D1)
    assert then.bytes_read < legacy.bytes_read
