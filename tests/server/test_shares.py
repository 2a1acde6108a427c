"""Share codes: short, without look-alikes, forgiving to type, one per session."""

import asyncio

from backprop_lab.server.live.share_codes import ALPHABET, CODE_LENGTH, ShareBook, new_code, normalise, spoken
from backprop_lab.server.settings import Settings

LOOK_ALIKES = ["0O", "1IL", "2Z", "5S", "6G", "8B", "UV"]


def test_a_code_is_six_characters_that_no_reader_confuses():
    for pair in LOOK_ALIKES:
        assert sum(char in ALPHABET for char in pair) <= 1, f"{pair}: look-alikes both in the alphabet"
    assert not set("QDJ") & set(ALPHABET), "Q and D pass for 0, J for I"
    codes = {new_code() for _ in range(200)}
    assert all(len(code) == CODE_LENGTH and set(code) <= set(ALPHABET) for code in codes)
    assert len(codes) > 190, "codes repeat far more often than chance"


def test_typing_a_code_forgives_case_spaces_and_dashes_but_not_other_letters():
    assert normalise("kxm-47p") == "KXM47P" and normalise(" KXM 47P ") == "KXM47P"
    assert normalise("KXM47") is None and normalise("KXM47PP") is None
    assert normalise("KXM4OP") is None, "O is not in the alphabet"
    assert spoken("KXM47P") == "KXM 47P"


def test_a_session_keeps_its_code_until_it_is_forgotten():
    book = ShareBook()
    first = asyncio.run(book.share("session-a"))
    assert asyncio.run(book.share("session-a")) == first and asyncio.run(book.share("session-b")) != first
    assert book.session_of(spoken(first).lower()) == "session-a"
    book.forget("session-a")
    assert book.session_of(first) is None and book.code_of("session-a") is None and len(book) == 1


def test_a_share_s_address_is_local_only_when_the_server_listens_on_loopback():
    assert Settings(host="127.0.0.1").local_only, "the README's one-liner: no student reaches 127.0.0.1"
    assert Settings(host="localhost").local_only and Settings(host="::1").local_only
    assert not Settings(host="192.0.2.20").local_only, "a LAN address the teacher chose"
