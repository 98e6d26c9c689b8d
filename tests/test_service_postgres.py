"""The PostgreSQL store and two service replicas sharing one database.

A real PostgreSQL 15 is started for this module in a temporary data directory (initdb + pg_ctl, as
the ``postgres`` user when the tests run as root) on a free loopback port. The store tests of
``test_service_store`` run again here against it; then two uvicorn replicas share the database.
"""

from __future__ import annotations

import itertools

import httpx
import pytest
from service_helpers import PostgresServer, ServerThread, get_token, handwritten_title, printed_lines, wait_task

from inkread.service.app import ServiceSettings, create_app
from inkread.service.auth import create_client
from inkread.service.store import PostgresStore, open_store

# the SQLite store tests, run here with the PostgreSQL ``store`` fixture below
from test_service_store import (  # noqa: F401
    test_cancel_queued_and_running,
    test_claims_from_many_threads_never_share_a_task,
    test_clients_add_authenticate_revoke,
    test_expired_leases_are_claimed_again_and_release_requeues,
    test_results_expire_and_are_purged,
    test_settings_are_created_once,
    test_task_life_cycle,
    test_tokens_sign_expire_and_die_with_the_client,
)

_reason = PostgresServer.unavailable()
pytestmark = pytest.mark.skipif(_reason is not None, reason=_reason or "")

_names = itertools.count()


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer().start()
    yield server
    server.stop()


def _fresh_database(postgres: PostgresServer) -> str:
    import psycopg

    name = f"inkread_{next(_names)}"
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return postgres.url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture()
def store(postgres):
    s = open_store(_fresh_database(postgres))
    assert isinstance(s, PostgresStore)
    yield s
    s.close()


def test_schema_creation_is_idempotent_and_concurrent(postgres):
    import threading

    url = _fresh_database(postgres)
    errors: list[BaseException] = []

    def open_close() -> None:
        try:
            open_store(url).close()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=open_close) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_two_replicas_share_one_database(postgres):
    url = _fresh_database(postgres)
    stores = [open_store(url), open_store(url)]
    record, secret = create_client(stores[0], "replicas")
    settings = ServiceSettings(db=url, workers=1, poll_interval=0.1)
    servers = [ServerThread(create_app(settings, store=s)).start() for s in stores]
    try:
        token = get_token(servers[0].url, record.id, secret)  # a token from replica 0 ...
        headers = {"Authorization": f"Bearer {token}"}
        clients = [httpx.Client(base_url=s.url, headers=headers, timeout=60) for s in servers]
        try:
            ids = []
            for i in range(6):
                image = handwritten_title() if i % 2 else printed_lines()
                r = clients[i % 2].post("/v1/tasks", files={"file": (f"{i}.img", image, "image/png")})
                assert r.status_code == 202, r.text  # ... works on replica 1 too
                ids.append(r.json()["id"])
            # every task is visible (and finishes) through either replica
            results = [wait_task(clients[(i + 1) % 2], task_id) for i, task_id in enumerate(ids)]
            assert [r["status"] for r in results] == ["done"] * 6
            assert all(r["attempts"] == 1 for r in results)  # SKIP LOCKED: each task ran exactly once
            workers = {stores[0].get_task(task_id).worker for task_id in ids}
            assert len(workers) == 2  # both replicas did some of the work
            assert "errands" in results[1]["result"]["text"] and "library" in results[0]["result"]["text"]
            # revoking through one replica's store ends the token on both
            stores[1].revoke_client(record.id)
            assert all(c.get(f"/v1/tasks/{ids[0]}").status_code == 401 for c in clients)
        finally:
            for c in clients:
                c.close()
    finally:
        for s in servers:
            s.stop()
        for s in stores:
            s.close()
