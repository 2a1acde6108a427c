"""Two real workers behind a real HAProxy (backprop_lab.server.cluster.proxy) sharing a real Redis:
a session made through the proxy is steered through it, its paths reach its own worker, new
sessions spread, pages are served, and a student's and an address's shares hold across the
workers, the address being the student's (X-Forwarded-For), never one a client claims."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cluster_helpers import Worker, start_worker
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from backprop_lab.server.cluster import proxy
from backprop_lab.server.cluster.services import Service, free_port, start_haproxy

sys.path.insert(0, str(Path(__file__).parents[1] / "server"))
from server_helpers import TEACHER_KEY, Inbox, client_from, of_type  # noqa: E402

# small shares: a student holds 2 sessions and 2 sockets, an address 3 sessions
SHARES = ("--quota", "sessions=2,3", "--quota", "sockets=2,20")
READY_SECONDS = 30  # HAProxy marks a server up after two health checks half a second apart


@dataclass
class Cluster:
    workers: list[Worker]
    haproxy: Service

    @property
    def base(self) -> str:
        return self.haproxy.url

    @property
    def ws(self) -> str:
        return self.base.replace("http://", "ws://")

    def worker(self, name: str) -> Worker:
        return next(worker for worker in self.workers if worker.name == name)


def until(check, what: str, seconds: float = READY_SECONDS):  # type: ignore[no-untyped-def]
    """Poll `check()` until it returns something true; fail naming `what` past the deadline."""
    deadline = time.monotonic() + seconds
    while not (result := check()):
        assert time.monotonic() < deadline, f"{what} within {seconds} s"
        time.sleep(0.05)
    return result


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def cluster(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("cluster")
    workers: list[Worker] = []
    port = free_port()  # the proxy's: the address the workers' links name and whose Origin they accept
    try:
        for name in ("w1", "w2"):
            workers.append(start_worker(name, free_port(), redis_url, str(folder / f"{name}.sqlite3"), classroom=True,
                                        teacher_key=TEACHER_KEY,
                                        extra_args=(*SHARES, "--public-url", f"http://127.0.0.1:{port}/")))
        haproxy = start_haproxy(proxy.config([proxy.Worker(w.name, "127.0.0.1", w.port) for w in workers],
                                             f"127.0.0.1:{port}", 1000), port, folder / "haproxy")
        try:
            for name in ("w1", "w2"):  # each worker's own backend has it up: its sessions' paths reach it
                until(lambda n=name: httpx.get(f"{haproxy.url}/api/v1/sessions/{n}.unknown").status_code == 404,
                      f"HAProxy sees {name} up")
            yield Cluster(workers, haproxy)
        finally:
            haproxy.stop()
    finally:
        for worker in workers:
            worker.stop()


@pytest.fixture
def teacher(cluster: Cluster) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=cluster.base, headers={"Authorization": f"Bearer {TEACHER_KEY}"}, timeout=60) as http:
        yield http


def student(base: str, address: str) -> httpx.Client:
    """A student on another laptop (`address`), keeping their identity cookie."""
    return client_from(base, address)


def spread(base: str, count: int) -> list[str]:
    """Ids of `count` new sessions made through the proxy, each by a client of its own (a page each)."""
    ids = []
    for _ in range(count):
        response = httpx.post(f"{base}/api/v1/sessions", json={"dataset": "xor"},
                              headers={"Authorization": f"Bearer {TEACHER_KEY}"}, timeout=60)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def test_new_sessions_spread_over_the_workers_and_each_one_s_paths_reach_its_own(cluster, teacher):
    ids = spread(cluster.base, 6)
    assert {sid.split(".")[0] for sid in ids} == {"w1", "w2"}, f"every session on one worker: {ids}"
    try:
        for sid in ids:
            assert teacher.get(f"/api/v1/sessions/{sid}").json()["id"] == sid  # through the proxy, every time
            own = cluster.worker(sid.split(".")[0])
            headers = {"Authorization": f"Bearer {TEACHER_KEY}"}
            assert httpx.get(f"{own.base}/api/v1/sessions/{sid}", headers=headers).status_code == 200
            other = next(w for w in cluster.workers if w is not own)
            assert httpx.get(f"{other.base}/api/v1/sessions/{sid}", headers=headers).status_code == 404
    finally:
        for sid in ids:
            teacher.delete(f"/api/v1/sessions/{sid}")


@pytest.mark.anyio
async def test_a_session_made_through_the_proxy_is_steered_and_streamed_through_it(cluster, teacher):
    sid = teacher.post("/api/v1/sessions", json={"dataset": "xor", "hidden_layers": [4]}).json()["id"]
    try:
        stepped = teacher.post(f"/api/v1/sessions/{sid}/step", json={"steps": 25})
        assert stepped.status_code == 200 and stepped.json()["step"] == 25, stepped.text
        changed = teacher.patch(f"/api/v1/sessions/{sid}/config", json={"learning_rate": 0.05})
        assert changed.status_code == 200 and changed.json()["config"]["learning_rate"] == 0.05, changed.text
        ws = await connect(f"{cluster.ws}/ws/sessions/{sid}", origin=cluster.base, max_size=2**24, close_timeout=1,
                           additional_headers={"Authorization": f"Bearer {TEACHER_KEY}"})
        async with ws:
            inbox = Inbox(ws)
            hello = await inbox.until("hello")
            assert hello["session_id"] == sid and hello["snapshot"]["step"] == 25
            await inbox.send({"type": "play"})
            steps = [frame["step"] for frame in of_type(await inbox.collect(1.5), "frame")]
            assert len(steps) >= 10 and steps == sorted(steps) and steps[0] > 25, steps
            await inbox.send({"type": "pause"})
    finally:
        teacher.delete(f"/api/v1/sessions/{sid}")


def test_pages_and_static_files_come_through_the_proxy(cluster):
    page = httpx.get(f"{cluster.base}/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    css = httpx.get(f"{cluster.base}/static/css/app.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


def test_a_student_at_the_session_share_on_one_worker_is_refused_on_the_other_until_one_is_deleted(cluster):
    w1, w2 = cluster.worker("w1"), cluster.worker("w2")
    with httpx.Client(timeout=60) as browser:  # one student's browser, straight to each worker
        made = [browser.post(f"{w1.base}/api/v1/sessions", json={"dataset": "xor"}) for _ in range(2)]
        assert [response.status_code for response in made] == [201, 201], made[-1].text
        refused = browser.post(f"{w2.base}/api/v1/sessions", json={"dataset": "xor"})
        assert refused.status_code == 429, refused.text
        assert refused.json()["code"] == "student_quota" and int(refused.headers["Retry-After"]) > 0
        assert "2 sessions" in refused.json()["detail"]
        assert browser.delete(f"{w1.base}/api/v1/sessions/{made[0].json()['id']}").status_code == 204
        moved = until(lambda: (r := browser.post(f"{w2.base}/api/v1/sessions", json={"dataset": "xor"}))
                      .status_code == 201 and r, "the deleted session's place given back on w2", 5)
        for response in (made[1], moved):
            sid = response.json()["id"]
            browser.delete(f"{cluster.worker(sid.split('.')[0]).base}/api/v1/sessions/{sid}")


def test_an_address_s_share_counts_the_student_s_own_address_behind_the_proxy_not_one_it_claims(cluster):
    laptops = [student(cluster.base, "127.0.0.7") for _ in range(4)]
    elsewhere = student(cluster.base, "127.0.0.8")
    made: list[httpx.Response] = []
    try:
        made += [laptop.post("/api/v1/sessions", json={"dataset": "xor"}) for laptop in laptops[:3]]
        assert [response.status_code for response in made] == [201] * 3, made[-1].text
        assert {response.json()["id"].split(".")[0] for response in made} == {"w1", "w2"}
        # a fourth student from the same address, on whichever worker, claiming another address
        refused = laptops[3].post("/api/v1/sessions", json={"dataset": "xor"},
                                  headers={"X-Forwarded-For": "10.9.9.9"})
        assert refused.status_code == 429 and refused.json()["code"] == "address_quota", refused.text
        made.append(elsewhere.post("/api/v1/sessions", json={"dataset": "xor"}))
        assert made[-1].status_code == 201, made[-1].text
    finally:
        teacher = {"Authorization": f"Bearer {TEACHER_KEY}"}
        for response in made:
            if response.status_code == 201:
                httpx.delete(f"{cluster.base}/api/v1/sessions/{response.json()['id']}", headers=teacher)
        for laptop in (*laptops, elsewhere):
            laptop.close()


@pytest.mark.anyio
async def test_a_student_s_sockets_count_across_the_workers_at_the_handshake(cluster):
    w1, w2 = cluster.worker("w1"), cluster.worker("w2")
    with httpx.Client(timeout=60) as browser:
        sessions = [browser.post(f"{worker.base}/api/v1/sessions", json={"dataset": "xor"}) for worker in (w1, w2)]
        assert [response.status_code for response in sessions] == [201, 201], sessions[-1].text
        first, second = (response.json()["id"] for response in sessions)
        cookie = {"Cookie": "; ".join(f"{name}={value}" for name, value in browser.cookies.items())}

        async def open_socket(worker: Worker, sid: str):  # type: ignore[no-untyped-def]
            return await connect(f"{worker.ws}/ws/sessions/{sid}", origin=worker.base, close_timeout=1,
                                 additional_headers=cookie)

        held = [await open_socket(w1, first) for _ in range(2)]  # the student's share, both on w1
        try:
            with pytest.raises(InvalidStatus) as refused:
                await open_socket(w2, second)
            assert refused.value.response.status_code == 429
            assert b"student_quota" in refused.value.response.body
            await held[0].close()
            deadline = time.monotonic() + 5
            while True:  # the place given back reaches Redis a moment after the close
                try:
                    held[0] = await open_socket(w2, second)
                    break
                except InvalidStatus:
                    assert time.monotonic() < deadline, "the closed socket's place never came free on w2"
                    await asyncio.sleep(0.02)
        finally:
            for ws in held:
                await ws.close()
            browser.delete(f"{w1.base}/api/v1/sessions/{first}")
            browser.delete(f"{w2.base}/api/v1/sessions/{second}")


def test_a_student_s_upload_job_and_saved_run_reach_the_worker_that_holds_them(cluster):
    csv = "x1,x2,label\n" + "".join(f"{i % 7},{i % 5},{'ab'[i % 2]}\n" for i in range(40))
    laptops = [student(cluster.base, f"127.0.1.{index}") for index in range(1, 5)]
    made: list[str] = []
    try:
        for laptop in laptops:  # each student's page: upload, train on it, run a job, save
            upload = laptop.post("/api/v1/datasets", files={"file": ("points.csv", csv.encode(), "text/csv")})
            assert upload.status_code == 201, upload.text
            created = laptop.post("/api/v1/sessions", json={"dataset": upload.json()["id"]})
            assert created.status_code == 201, created.text
            sid = created.json()["id"]
            made.append(sid)
            job = laptop.post("/api/v1/jobs", json={"kind": "training", "session_id": sid, "steps": 50})
            assert job.status_code in (201, 202), job.text
            job_id = job.json()["id"]
            until(lambda lp=laptop, j=job_id: lp.get(f"/api/v1/jobs/{j}").json()["state"] == "done",
                  "the job done", 60)
            saved = laptop.post("/api/v1/runs", json={"session_id": sid, "name": "mine"})
            assert saved.status_code == 201, saved.text
        assert {sid.split(".")[0] for sid in made} == {"w1", "w2"}, f"every student on one worker: {made}"
    finally:
        for laptop, sid in zip(laptops, made, strict=False):
            laptop.delete(f"/api/v1/sessions/{sid}")
        for laptop in laptops:
            laptop.close()
