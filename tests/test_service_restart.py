"""Accepted tasks survive the server: ``inkread serve`` in a subprocess, killed with SIGKILL while it
works, started again on the same database: every accepted task completes, none twice."""

from __future__ import annotations

from pathlib import Path

import httpx
from service_helpers import ServerProcess, get_token, handwritten_title, printed_lines, wait_task, words_of

from inkread.service.auth import create_client
from inkread.service.store import open_store


def test_kill_9_and_restart_completes_every_accepted_task(tmp_path):
    db = str(tmp_path / "service.db")
    store = open_store(db)
    record, secret = create_client(store, "restart")
    store.close()
    log = tmp_path / "server.log"
    first = ServerProcess(db, extra=["--workers", "1", "--lease", "1.5"], log=log).start()
    try:
        token = get_token(first.url, record.id, secret)
        headers = {"Authorization": f"Bearer {token}"}
        images = [handwritten_title(), printed_lines()] * 2
        ids = []
        with httpx.Client(base_url=first.url, headers=headers, timeout=60) as c:
            for i, image in enumerate(images):
                r = c.post("/v1/tasks", files={"file": (f"{i}.img", image, "application/octet-stream")})
                assert r.status_code == 202, r.text
                ids.append(r.json()["id"])
            # kill it while it is working on the first task
            at_kill = wait_task(c, ids[0], timeout=60, done=lambda b: b["status"] != "queued")
            first.kill()
        queued_at_kill = store_counts(db)
    finally:
        first.kill()

    second = ServerProcess(db, port=first.port, extra=["--workers", "1", "--lease", "1.5"], log=log).start()
    try:
        # the old token still works: the signing key lives in the database
        with httpx.Client(base_url=second.url, headers=headers, timeout=60) as c:
            results = [wait_task(c, task_id, timeout=90) for task_id in ids]
    finally:
        second.terminate()
    assert [r["status"] for r in results] == ["done"] * len(ids), [r["error"] for r in results]
    for r, image in zip(results, images):
        if image == images[0]:
            assert words_of(r["result"]["text"]) == {"saturday", "errands"}
        else:
            assert "community library" in r["result"]["text"]
    if at_kill["status"] == "running":  # it was interrupted: run again after its lease ran out
        assert results[0]["attempts"] == 2
    assert queued_at_kill["queued"] >= 2  # and there was queued work the new server picked up
    assert sum(r["attempts"] for r in results) <= len(ids) + 2  # only interrupted work ran again
    # the clean stop of the second server left nothing running
    store = open_store(db)
    try:
        assert store.count_tasks("running") == 0 and store.count_tasks("queued") == 0
    finally:
        store.close()



def store_counts(db: str) -> dict[str, int]:
    store = open_store(db)
    try:
        return {s: store.count_tasks(s) for s in ("queued", "running", "done")}
    finally:
        store.close()


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(k) for k in (task / "children").read_text().split()]
    return kids


def test_workers_recognise_in_that_many_processes(tmp_path):
    """``--workers 2``: two worker processes with their own models read the tasks (not threads
    under one GIL); results and typed errors come back through them unchanged."""
    db = str(tmp_path / "service.db")
    store = open_store(db)
    record, secret = create_client(store, "procs")
    store.close()
    server = ServerProcess(db, extra=["--workers", "2"]).start()
    try:
        headers = {"Authorization": f"Bearer {get_token(server.url, record.id, secret)}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as c:
            images = [handwritten_title(), printed_lines()] * 2 + [b"GIF89a not really"]
            ids = []
            for i, image in enumerate(images):
                r = c.post("/v1/tasks", files={"file": (f"{i}.img", image, "application/octet-stream")})
                assert r.status_code == 202, r.text
                ids.append(r.json()["id"])
            results = [wait_task(c, task_id, timeout=120) for task_id in ids]
            workers = [k for k in _children(server.proc.pid)
                       if b"spawn_main" in Path(f"/proc/{k}/cmdline").read_bytes()]
    finally:
        server.terminate()
    assert len(workers) == 2, workers
    assert [r["status"] for r in results] == ["done"] * 4 + ["failed"]
    for r, image in zip(results, images):
        if image == images[0]:
            assert words_of(r["result"]["text"]) == {"saturday", "errands"}
        elif image == images[1]:
            assert "community library" in r["result"]["text"]
    error = results[-1]["error"]
    assert (error["status"], error["error"]) == (400, "CorruptInputError"), error
    assert error["hint"] == "re-export or re-scan it"  # the hint crossed the process boundary too


def test_half_sent_requests_are_dropped(tmp_path):
    """300 half-sent requests were held for 75 s and never dropped; at the file limit they made
    /healthz time out (issue 14). A connection whose headers do not arrive in --header-timeout
    seconds is closed; the service answers the others meanwhile."""
    import socket
    import time

    db = str(tmp_path / "service.db")
    open_store(db).close()
    server = ServerProcess(db, extra=["--workers", "0", "--header-timeout", "1"]).start()
    try:
        port = server.port
        slow = []
        for i in range(60):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            if i % 2:
                s.sendall(b"POST /connect/token HTTP/1.1\r\nHost: x\r\nContent-")  # and never the rest
            slow.append(s)
        t0 = time.monotonic()
        assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200
        assert time.monotonic() - t0 < 2
        time.sleep(2.5)
        closed = 0
        for s in slow:
            s.settimeout(0.2)
            try:
                closed += s.recv(1024) == b""
            except TimeoutError:  # still open, still waiting
                pass
            except OSError:  # reset by the server
                closed += 1
            s.close()
        assert closed == len(slow)
        assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200  # a keep-alive client is fine
    finally:
        server.terminate()


def test_stalled_request_bodies_are_dropped(tmp_path):
    """A client that announced a body and stopped sending it held its connection (and the request)
    for ever (issue 14). With --body-timeout 2 it is closed after two seconds without a byte; a body
    that keeps coming, slowly, is read."""
    import socket
    import time

    db = str(tmp_path / "service.db")
    open_store(db).close()
    server = ServerProcess(db, extra=["--workers", "0", "--body-timeout", "2"]).start()
    try:
        stalled = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        stalled.sendall(b"POST /connect/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
                        b"\r\nContent-Length: 100000\r\n\r\ngrant_type")
        steady = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        body = b"grant_type=client_credentials&client_id=nobody&client_secret=wrong"
        steady.sendall(b"POST /connect/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
                       b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        for i in range(0, len(body), 8):  # 8 bytes every 0.3 s: slow, never two seconds without a byte
            steady.sendall(body[i:i + 8])
            time.sleep(0.3)
        answer = steady.recv(4096)
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
        stalled.settimeout(6)
        t0 = time.monotonic()
        try:
            closed = stalled.recv(1024) == b""
        except OSError:  # reset by the server
            closed = True
        assert closed and time.monotonic() - t0 < 6
        steady.close()
        stalled.close()
    finally:
        server.terminate()
