"""The service's store (SQLite), secrets, tokens and the ``inkread clients`` command. No OCR here."""

from __future__ import annotations

import json
import os
import threading
import time

import jwt
import pytest

from inkread import cli
from inkread.service import auth
from inkread.service.store import SQLiteStore, open_store


@pytest.fixture()
def store(tmp_path):
    s = open_store(tmp_path / "service.db")
    yield s
    s.close()


def test_open_store_picks_sqlite_and_creates_the_file(tmp_path):
    path = tmp_path / "deep" / "dir" / "x.db"
    s = open_store(f"sqlite:///{path}")
    try:
        assert isinstance(s, SQLiteStore) and path.exists()
        s.init_schema()  # idempotent
    finally:
        s.close()


def test_default_db_comes_from_the_environment(monkeypatch, tmp_path):
    from inkread.service.store import default_db

    monkeypatch.setenv("INKREAD_DB", str(tmp_path / "env.db"))
    assert default_db() == str(tmp_path / "env.db")
    monkeypatch.delenv("INKREAD_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db() == str(tmp_path / "xdg" / "inkread" / "service.db")


def test_secret_hashing():
    encoded = auth.hash_secret("s3cret")
    assert encoded.startswith("scrypt$") and "s3cret" not in encoded
    assert auth.verify_secret("s3cret", encoded)
    assert not auth.verify_secret("s3cret ", encoded)
    assert not auth.verify_secret("s3cret", "garbage")
    assert auth.hash_secret("s3cret") != encoded  # salted


def test_clients_add_authenticate_revoke(store):
    record, secret = auth.create_client(store, "app one")
    assert auth.authenticate_client(store, record.id, secret) == store.get_client(record.id)
    assert auth.authenticate_client(store, record.id, secret + "x") is None
    assert auth.authenticate_client(store, "no-such-id", secret) is None
    assert auth.authenticate_client(store, "", "") is None
    assert [c.name for c in store.list_clients()] == ["app one"]
    assert store.revoke_client(record.id)
    assert store.revoke_client(record.id)  # twice is fine
    assert not store.revoke_client("no-such-id")
    assert store.get_client(record.id).revoked
    assert auth.authenticate_client(store, record.id, secret) is None


def test_tokens_sign_expire_and_die_with_the_client(store):
    record, _ = auth.create_client(store, "a")
    issuer = auth.TokenIssuer(store, ttl_seconds=60)
    issued = issuer.issue(record.id)
    assert issued.token_type == "Bearer" and issued.expires_in == 60
    assert issuer.verify(issued.access_token).id == record.id
    # a second issuer on the same store (another replica) shares the key
    assert auth.TokenIssuer(store).verify(issued.access_token).id == record.id
    head, payload, sig = issued.access_token.split(".")
    with pytest.raises(auth.TokenError):
        issuer.verify(f"{head}.{payload}.{sig[:-2]}AA")
    forged = jwt.encode({"sub": record.id, "iat": 0, "exp": int(time.time()) + 60, "iss": "inkread"}, "a-different-key-that-is-long-enough-for-hs256",
                        algorithm="HS256")
    with pytest.raises(auth.TokenError, match="invalid"):
        issuer.verify(forged)
    key = store.get_or_create_setting(auth.SECRET_KEY_SETTING, lambda: "unused")
    expired = jwt.encode({"sub": record.id, "iat": 0, "exp": int(time.time()) - 5, "iss": "inkread"}, key,
                         algorithm="HS256")
    with pytest.raises(auth.TokenError, match="expired"):
        issuer.verify(expired)
    with pytest.raises(auth.TokenError):
        issuer.verify("not a token")
    store.revoke_client(record.id)
    with pytest.raises(auth.TokenError, match="revoked"):
        issuer.verify(issued.access_token)


def test_task_life_cycle(store):
    client, _ = auth.create_client(store, "a")
    other, _ = auth.create_client(store, "b")
    task = store.create_task(client_id=client.id, kind="native", options={"recognition": {}}, data=b"abc",
                             input_name="x.png")
    assert task.status == "queued" and task.input_size == 3 and task.input_name == "x.png"
    assert store.get_task(task.id, other.id) is None  # another client's task does not exist for them
    assert store.count_tasks("queued") == 1 and store.count_tasks("queued", other.id) == 0
    claimed = store.claim_task("w1", lease_seconds=30)
    assert claimed.id == task.id and claimed.data == b"abc" and claimed.attempts == 1
    assert store.claim_task("w2", lease_seconds=30) is None  # nothing else queued
    assert store.renew_leases("w1", 30) == 1
    assert store.finish_task(task.id, "w2", result={"text": "no"}, result_ttl=60) is False  # not w2's
    assert store.finish_task(task.id, "w1", result={"text": "hi"}, result_ttl=60)
    done = store.get_task(task.id, client.id)
    assert done.status == "done" and done.result == {"text": "hi"} and done.expires_at > time.time()
    assert store.cancel_task(task.id, client.id, result_ttl=60).status == "done"  # finished stays finished


def test_cancel_queued_and_running(store):
    client, _ = auth.create_client(store, "a")
    queued = store.create_task(client_id=client.id, kind="native", options={}, data=b"1")
    assert store.cancel_task(queued.id, client.id, result_ttl=60).status == "cancelled"
    assert store.claim_task("w", 30) is None  # a cancelled task is never run
    running = store.create_task(client_id=client.id, kind="native", options={}, data=b"2")
    assert store.claim_task("w", 30).id == running.id
    assert store.cancel_task(running.id, client.id, result_ttl=60).status == "cancelled"
    assert store.finish_task(running.id, "w", result={}, result_ttl=60) is False  # the outcome is dropped
    assert store.get_task(running.id).status == "cancelled"


def test_expired_leases_are_claimed_again_and_release_requeues(store):
    client, _ = auth.create_client(store, "a")
    task = store.create_task(client_id=client.id, kind="native", options={}, data=b"1")
    assert store.claim_task("dead", lease_seconds=0.05).id == task.id
    assert store.claim_task("alive", lease_seconds=30) is None  # lease still held
    time.sleep(0.1)
    again = store.claim_task("alive", lease_seconds=30)
    assert again.id == task.id and again.attempts == 2
    assert store.finish_task(task.id, "dead", result={}, result_ttl=60) is False  # the old owner lost it
    assert store.release_worker_tasks("alive") == 1
    assert store.get_task(task.id).status == "queued"


def test_results_expire_and_are_purged(store):
    client, _ = auth.create_client(store, "a")
    task = store.create_task(client_id=client.id, kind="native", options={}, data=b"1")
    store.claim_task("w", 30)
    store.finish_task(task.id, "w", error={"error": "CorruptInputError"}, result_ttl=0.05)
    assert store.get_task(task.id).status == "failed"
    time.sleep(0.1)
    assert store.get_task(task.id) is None  # expired: gone for the API at once
    assert store.purge_expired() == 1
    assert store.purge_expired() == 0


def test_claims_from_many_threads_never_share_a_task(store):
    client, _ = auth.create_client(store, "a")
    ids = {store.create_task(client_id=client.id, kind="native", options={}, data=b"x").id for _ in range(40)}
    got: list[str] = []
    lock = threading.Lock()

    def claim(worker: str) -> None:
        while (task := store.claim_task(worker, 30)) is not None:
            with lock:
                got.append(task.id)

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == sorted(ids)


def test_settings_are_created_once(store):
    assert store.get_or_create_setting("k", lambda: "first") == "first"
    assert store.get_or_create_setting("k", lambda: "second") == "first"


# ----------------------------------------------------------------------------------------------
# inkread clients


def test_clients_command(tmp_path, capsys):
    db = str(tmp_path / "c.db")
    assert cli.main(["clients", "add", "my app", "--db", db, "--json"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert set(added) == {"client_id", "client_secret", "name"} and added["name"] == "my app"
    assert cli.main(["clients", "--db", db, "add", "second"]) == 0
    text = capsys.readouterr().out
    assert "client id:" in text and "client secret:" in text
    assert cli.main(["clients", "list", "--db", db]) == 0
    listing = capsys.readouterr().out
    assert "my app" in listing and "second" in listing and added["client_secret"] not in listing
    assert cli.main(["clients", "revoke", added["client_id"], "--db", db]) == 0
    assert added["client_id"] in capsys.readouterr().out
    assert cli.main(["clients", "list", "--db", db, "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["my app"]["revoked"] is True and rows["second"]["revoked"] is False
    assert "secret_hash" not in rows["my app"]
    assert cli.main(["clients", "revoke", "nope", "--db", db]) == 2
    assert "no client with id 'nope'" in capsys.readouterr().err
    s = open_store(db)
    try:
        assert auth.authenticate_client(s, added["client_id"], added["client_secret"]) is None
    finally:
        s.close()


def test_clients_command_uses_inkread_db(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("INKREAD_DB", str(tmp_path / "env.db"))
    assert cli.main(["clients", "add", "x"]) == 0
    assert (tmp_path / "env.db").exists()
    capsys.readouterr()
    assert cli.main(["clients"]) == 2  # an action is required
    assert cli.main(["serve", "--help"]) == 0
    assert "--workers" in capsys.readouterr().out


def test_database_and_data_folder_are_private(tmp_path):
    """The database holds the signing key and client secrets: owner-only from the start (issue 14)."""
    import stat

    db = tmp_path / "data" / "inkread" / "service.db"
    store = open_store(db)
    auth.create_client(store, "a")  # writes through WAL: the side files too
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    for side in db.parent.glob("service.db-*"):
        assert stat.S_IMODE(side.stat().st_mode) & 0o077 == 0, side
    store.close()
    os.chmod(db, 0o644)  # loosened by hand: tightened again at the next start
    open_store(db).close()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_tokens_living_longer_than_the_service_issues_are_refused(store):
    """A token signed with the real key but a 100-year lifetime was never issued here."""
    record, _ = auth.create_client(store, "a")
    issuer = auth.TokenIssuer(store, ttl_seconds=3600)
    key = store.get_or_create_setting(auth.SECRET_KEY_SETTING, lambda: "unused")
    now = int(time.time())
    long_lived = jwt.encode({"sub": record.id, "iat": now, "exp": now + 100 * 365 * 86400, "iss": "inkread"},
                            key, algorithm="HS256")
    with pytest.raises(auth.TokenError, match="lifetime"):
        issuer.verify(long_lived)
    from_the_future = jwt.encode({"sub": record.id, "iat": now + 86400, "exp": now + 86400 + 60, "iss": "inkread"},
                                 key, algorithm="HS256")
    with pytest.raises(auth.TokenError):  # PyJWT itself refuses an iat in the future
        issuer.verify(from_the_future)
    assert issuer.verify(issuer.issue(record.id).access_token).id == record.id


def test_tasks_queued_by_a_client_revoked_since_are_not_run(store, repo_root):
    """Revoking a client stops its queued work too, not only its tokens (issue 14)."""
    from inkread.engine import OcrEngine
    from inkread.service.store import DONE, FAILED
    from inkread.service.worker import WorkerPool

    image = (repo_root / "examples" / "printed_page.png").read_bytes()
    kept, _ = auth.create_client(store, "kept")
    gone, _ = auth.create_client(store, "gone")
    ok = store.create_task(client_id=kept.id, kind="native", options={"recognition": {"mode": "printed"}}, data=image)
    stale = store.create_task(client_id=gone.id, kind="native", options={"recognition": {"mode": "printed"}},
                              data=image)
    store.revoke_client(gone.id)
    pool = WorkerPool(store, OcrEngine(), workers=1, poll_interval=0.05)
    pool.start()
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not all(
                store.get_task(t.id).finished for t in (ok, stale)):
            time.sleep(0.1)
    finally:
        pool.stop()
    assert store.get_task(ok.id).status == DONE
    failed = store.get_task(stale.id)
    assert failed.status == FAILED and failed.result is None
    assert failed.error["error"] == "AuthenticationError" and "revoked" in failed.error["message"]


def test_revoking_a_client_stops_its_running_task(store):
    """Revoking a client stopped its tokens and its queued tasks, but a task already running read on
    to its last page (issue 14). Now it stops at its next page and fails with AuthenticationError."""
    from synth import blank_pdf

    from inkread.engine import OcrEngine
    from inkread.service.store import FAILED, RUNNING
    from inkread.service.worker import WorkerPool

    gone, _ = auth.create_client(store, "gone")
    task = store.create_task(client_id=gone.id, kind="native", data=blank_pdf(300),
                             options={"recognition": {"pdf_dpi": 150, "max_pages": 1000, "rotate": "0"}})
    pool = WorkerPool(store, OcrEngine(), workers=1, poll_interval=0.05, lease_seconds=1.5)
    pool.start()
    try:
        deadline = time.time() + 60
        while time.time() < deadline and store.get_task(task.id).status != RUNNING:
            time.sleep(0.05)
        time.sleep(1)
        store.revoke_client(gone.id)
        revoked_at = time.time()
        while time.time() < deadline and not store.get_task(task.id).finished:
            time.sleep(0.05)
        stopped_after = time.time() - revoked_at
    finally:
        pool.stop()
    failed = store.get_task(task.id)
    assert failed.status == FAILED and failed.error["error"] == "AuthenticationError", failed
    assert "revoked" in failed.error["message"] and stopped_after < 5
