"""A fair share for every student (backprop_lab.server.classroom.quotas): the ledger's shares, reserve and release, and
on a real classroom server, one address filling its share while another student carries on."""

from __future__ import annotations

import threading

import httpx
import pytest
from server_helpers import Inbox, client_from
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from backprop_lab.server.classroom.identity import COOKIE, TEACHER_ID, Identity, Role
from backprop_lab.server.classroom.quotas import Ledger, Quotas, Resource, Share, check_storage
from backprop_lab.server.settings import Limits
from backprop_lab.server.wire.problems import CapReached

CAPS = {resource: 10 for resource in Resource}
TEACHER = Identity(TEACHER_ID, Role.TEACHER, "127.0.0.1")


def student(name: str, address: str = "10.0.0.1") -> Identity:
    return Identity(f"s_{name}", Role.STUDENT, address)


def ledger(**shares: Share) -> Ledger:
    return Ledger(Quotas(**shares), dict(CAPS), enforce_shares=True)  # type: ignore[arg-type]


def test_a_student_holds_at_most_their_share_and_gets_it_back_when_released():
    book = ledger(sessions=Share(2, 8))
    first, _ = book.claim(Resource.SESSIONS, student("a")), book.claim(Resource.SESSIONS, student("a"))
    with pytest.raises(CapReached) as refused:
        book.claim(Resource.SESSIONS, student("a"))
    assert refused.value.code == "student_quota" and refused.value.params == {"resource": "sessions", "maximum": 2}
    assert "close a tab" in refused.value.message and refused.value.retry_after > 0
    first.release()
    first.release()  # once, however often
    assert book.in_use(Resource.SESSIONS) == 1
    book.claim(Resource.SESSIONS, student("a"))


def test_an_address_shares_one_quota_across_the_students_behind_it():
    book = ledger(uploads=Share(2, 3))
    for name in "abc":
        book.claim(Resource.UPLOADS, student(name))
    with pytest.raises(CapReached) as refused:
        book.claim(Resource.UPLOADS, student("d"))
    assert refused.value.code == "address_quota"
    book.claim(Resource.UPLOADS, student("e", address="10.0.0.2"))  # another machine is not held back


def test_the_reserve_keeps_the_last_slots_for_students_who_hold_none():
    book = ledger(sessions=Share(5, 8))  # a cap of 10 keeps 1 in reserve
    for index in range(9):
        book.claim(Resource.SESSIONS, student(f"hog{index % 3}", address=f"10.0.1.{index % 3}"))
    with pytest.raises(CapReached) as refused:
        book.claim(Resource.SESSIONS, student("hog0", address="10.0.1.0"))
    assert refused.value.code == "server_reserve"
    book.claim(Resource.SESSIONS, student("newcomer", address="10.0.2.1"))  # a first claim gets the last slot
    with pytest.raises(CapReached) as full:
        book.claim(Resource.SESSIONS, student("late", address="10.0.2.2"))
    assert full.value.code == "too_many_sessions"


def test_the_teacher_is_held_only_by_the_servers_caps():
    book = ledger(sessions=Share(1, 1))
    claims = [book.claim(Resource.SESSIONS, TEACHER) for _ in range(10)]
    with pytest.raises(CapReached):
        book.claim(Resource.SESSIONS, TEACHER)
    for claim in claims:
        claim.release()
    assert book.in_use(Resource.SESSIONS) == 0


def test_outside_classroom_mode_only_the_caps_apply():
    book = Ledger(Quotas(sessions=Share(1, 1)), dict(CAPS), enforce_shares=False)
    for _ in range(10):
        book.claim(Resource.SESSIONS, student("a"))
    assert book.in_use(Resource.SESSIONS) == 10


def test_a_block_holds_its_claim_until_it_ends_however_it_ends():
    book = ledger(sweeps=Share(1, 2))
    with pytest.raises(ValueError), book.holding(Resource.SWEEPS, student("a")):
        assert book.in_use(Resource.SWEEPS) == 1
        raise ValueError("the engine refused")
    assert book.in_use(Resource.SWEEPS) == 0


def test_claims_from_many_threads_never_overrun_a_cap():
    book = Ledger(Quotas(), {**CAPS, Resource.RACES: 50}, enforce_shares=False)
    taken: list[object] = []

    def grab() -> None:
        for _ in range(40):
            try:
                taken.append(book.claim(Resource.RACES, TEACHER))
            except CapReached:
                pass

    threads = [threading.Thread(target=grab) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 50 == book.in_use(Resource.RACES)


def test_messages_draw_on_one_rate_per_student_across_their_sockets():
    book = ledger(messages_per_second=Share(5, 100))
    allowed = sum(book.allow_message(student("a")) for _ in range(50))
    assert allowed == 5  # a burst of the rate, then nothing until tokens come back
    assert book.allow_message(student("b"))


def test_a_save_past_a_share_of_the_stores_bytes_is_refused_saying_how_much():
    quotas = Quotas(stored_megabytes=Share(2, 10))
    check_storage(quotas, student("a"), True, (3, 1_500_000), (3, 1_500_000), 400_000)  # 1.9 MB: fits
    with pytest.raises(CapReached) as refused:
        check_storage(quotas, student("a"), True, (3, 1_500_000), (3, 1_500_000), 600_000)
    assert refused.value.code == "student_quota" and refused.value.params == {"resource": "stored_megabytes",
                                                                             "maximum": 2}
    assert "1.5 MB" in refused.value.message and refused.value.retry_after > 0
    with pytest.raises(CapReached) as by_address:
        check_storage(quotas, student("a"), True, (0, 0), (9, 9_900_000), 200_000)
    assert by_address.value.code == "address_quota"
    check_storage(quotas, TEACHER, True, (0, 0), (9, 9_900_000), 10**9)  # the teacher: only the disk


# --- on a live classroom server ----------------------------------------------------------------

SMALL = Quotas(sessions=Share(2, 4), uploads=Share(1, 2), sockets=Share(3, 5), races=Share(1, 2),
               saved_runs=Share(2, 3), messages_per_second=Share(200, 400))  # races here, not their rate
CSV = b"a,b,label\n" + b"".join(f"{i},{i % 3},{'xy'[i % 2]}\n".encode() for i in range(20))


@pytest.fixture
def small_class(live_factory):  # type: ignore[no-untyped-def]
    """A classroom server with small shares, so a test can fill them."""
    return live_factory(limits=Limits(max_sessions=12, max_uploads=6), classroom_mode=True, quotas=SMALL)


def cookie_of(client: httpx.Client) -> dict[str, str]:
    client.get("/api/v1/identity")
    return {"Cookie": f"{COOKIE}={client.cookies[COOKIE]}"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_one_address_filling_its_share_leaves_another_student_free_to_work(small_class):
    base = small_class.base
    hogs = [client_from(base, "127.0.0.2") for _ in range(3)]  # three students behind one router
    sockets = []
    try:
        created = [hog.post("/api/v1/sessions", json={"hidden_layers": [2]}) for hog in hogs for _ in range(2)]
        assert [answer.status_code for answer in created] == [201, 201, 201, 201, 429, 429]
        refused = created[4]
        assert refused.json()["code"] == "address_quota" and int(refused.headers["retry-after"]) > 0
        uploads = [hog.post("/api/v1/datasets", files={"file": ("t.csv", CSV)}).status_code for hog in hogs]
        assert uploads == [201, 201, 429]
        sid = created[0].json()["id"]
        for _ in range(3):
            sockets.append(await connect(f"{small_class.ws}/ws/sessions/{sid}", origin=base,
                                         additional_headers=cookie_of(hogs[0]), local_addr=("127.0.0.2", 0)))
        with pytest.raises(InvalidStatus) as full:  # its three sockets are a student's share
            await connect(f"{small_class.ws}/ws/sessions/{sid}", origin=base, additional_headers=cookie_of(hogs[0]),
                          local_addr=("127.0.0.2", 0))
        assert full.value.response.status_code == 429 and full.value.response.headers["retry-after"]

        with client_from(base, "127.0.0.3") as carol:  # another student, another laptop
            mine = carol.post("/api/v1/sessions", json={"hidden_layers": [3]})
            assert mine.status_code == 201
            own = mine.json()["id"]
            code = hogs[0].post(f"/api/v1/sessions/{sid}/share").json()["code"]
            assert carol.post(f"/api/v1/shares/{code}/fork").status_code == 201
            assert carol.post("/api/v1/datasets", files={"file": ("t.csv", CSV)}).status_code == 201
            assert carol.post(f"/api/v1/sessions/{own}/step", json={"steps": 5}).status_code == 200
            assert carol.post("/api/v1/runs", json={"session_id": own, "name": "mine"}).status_code == 201
            assert carol.post(f"/api/v1/sessions/{own}/loss-surface", json={"resolution": 5}).status_code == 200
            ws = Inbox(await connect(f"{small_class.ws}/ws/sessions/{own}", origin=base,
                                     additional_headers=cookie_of(carol), local_addr=("127.0.0.3", 0), max_size=2**24))
            try:
                await ws.until("hello")
                await ws.send({"type": "race_start", "learning_rates": [0.01, 0.1], "steps": 50})
                race = await ws.until("race", 10.0)
                assert race["status"] in ("started", "running", "finished")
            finally:
                await ws.ws.close()
    finally:
        for socket in sockets:
            await socket.close()
        for hog in hogs:
            hog.close()


@pytest.mark.anyio
async def test_a_student_races_once_at_a_time_and_a_restart_keeps_their_place(small_class):
    base = small_class.base
    with client_from(base, "127.0.0.4") as dana:
        first, second = (dana.post("/api/v1/sessions", json={"hidden_layers": [2]}).json()["id"] for _ in range(2))
        headers = cookie_of(dana)
        one = Inbox(await connect(f"{small_class.ws}/ws/sessions/{first}", origin=base, additional_headers=headers,
                                  local_addr=("127.0.0.4", 0), max_size=2**24))
        two = Inbox(await connect(f"{small_class.ws}/ws/sessions/{second}", origin=base, additional_headers=headers,
                                  local_addr=("127.0.0.4", 0), max_size=2**24))
        try:
            await one.until("hello")
            await two.until("hello")
            slow = {"type": "race_start", "learning_rates": [0.01, 0.1], "steps": 100_000, "steps_per_second": 10}
            await one.send(slow)
            assert (await one.until("race", 10.0))["status"] == "started"
            await one.send({**slow, "learning_rates": [0.03, 0.3]})  # a restart hands its place on
            restarted = await one.until("race", 10.0, status="started")
            assert restarted["copies"][0]["learning_rate"] == 0.03
            await two.send({**slow, "id": 7})
            refusal = await two.until("error", 10.0)
            assert refusal["reply_to"] == 7 and refusal["reason"] == "student_quota"
            await one.send({"type": "race_stop"})
            await one.until("race", 10.0, status="stopped", race=restarted["race"])  # not the first one's
            await two.send({**slow, "id": 8})
            assert (await two.until("race", 10.0))["status"] == "started"
        finally:
            await one.ws.close()
            await two.ws.close()


def test_a_student_keeps_at_most_their_share_of_saved_runs(small_class):
    with client_from(small_class.base, "127.0.0.5") as erin, client_from(small_class.base, "127.0.0.5") as fay:
        sid = erin.post("/api/v1/sessions", json={"hidden_layers": [2]}).json()["id"]
        saves = [erin.post("/api/v1/runs", json={"session_id": sid, "name": f"run {n}"}) for n in range(3)]
        assert [answer.status_code for answer in saves] == [201, 201, 429]
        assert saves[2].json()["code"] == "student_quota" and saves[2].json()["params"]["resource"] == "saved_runs"
        own = fay.post("/api/v1/sessions", json={"hidden_layers": [2]}).json()["id"]
        assert fay.post("/api/v1/runs", json={"session_id": own, "name": "fay's"}).status_code == 201
        refused = fay.post("/api/v1/runs", json={"session_id": own, "name": "one too many"})  # the address's 3
        assert refused.json()["code"] == "address_quota"
        erin.delete(f"/api/v1/runs/{saves[0].json()['id']}")  # deleting one makes room again
        assert erin.post("/api/v1/runs", json={"session_id": sid, "name": "again"}).status_code == 201


def test_a_gradient_check_computes_within_the_servers_and_the_callers_share(live, http, monkeypatch):
    sid = http.post("/api/v1/sessions", json={"hidden_layers": [2]}).json()["id"]
    assert http.post(f"/api/v1/sessions/{sid}/gradient-check").status_code == 200
    monkeypatch.setitem(live.lab.manager.ledger.totals, Resource.CHECKS, 0)
    refused = http.post(f"/api/v1/sessions/{sid}/gradient-check")
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_checks"
    assert refused.json()["params"]["resource"] == "checks" and int(refused.headers["retry-after"]) > 0


@pytest.mark.anyio
async def test_a_costly_message_weighs_more_of_a_students_rate(live_factory):
    server = live_factory(classroom_mode=True, quotas=Quotas(messages_per_second=Share(30, 300)))
    with client_from(server.base, "127.0.0.6") as gil:
        sid = gil.post("/api/v1/sessions", json={"hidden_layers": [2]}).json()["id"]
        ws = Inbox(await connect(f"{server.ws}/ws/sessions/{sid}", origin=server.base,
                                 additional_headers=cookie_of(gil), local_addr=("127.0.0.6", 0), max_size=2**24))
        try:
            await ws.until("hello")
            for index in range(3):  # 20 each against a rate of 30: the second and third wait
                await ws.send({"type": "race_start", "learning_rates": [0.01], "steps": 10, "id": index})
            replies = [await ws.until("error", 5.0) for _ in range(2)]
            refused = [(reply["reply_to"], reply["code"]) for reply in replies]
            assert refused == [(1, "rate_limited"), (2, "rate_limited")]
            await ws.send({"type": "probe", "split": "train", "index": 1, "id": 9})  # a light one still passes
            assert (await ws.until("probe", 5.0))["reply_to"] == 9
        finally:
            await ws.ws.close()
