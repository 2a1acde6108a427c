"""Sharing that works in the room (issue 23): a server on 127.0.0.1 (the README's one-liner)
gives an address only this computer opens, and Share says so and how to start one the class can
reach; a viewer sees the presenter's settings, live."""

from __future__ import annotations

import json

from browser_helpers import screenshot, wait_connected
from playwright.sync_api import expect


def test_share_on_a_loopback_server_explains_how_students_can_reach_it(open_page):
    page, watch = open_page(chart=False, width=1366, height=768)
    page.get_by_test_id("share-button").click()
    note = page.get_by_test_id("share-local")
    expect(note).to_be_visible()
    port = watch.base.rsplit(":", 1)[1]
    expect(note).to_contain_text(f"127.0.0.1:{port} is this computer talking to itself")
    expect(note).to_contain_text("backprop-lab --host 0.0.0.0")
    expect(note).to_contain_text(f":{port}/watch")  # what students type, on the port this server uses
    expect(page.locator("#share-title")).to_have_text("Only this computer opens")
    screenshot(page, "share-local-only")
    page.locator("#language-select").select_option("id")
    expect(note).to_contain_text("Siswa tidak bisa membuka alamat ini")
    watch.assert_clean()


def test_share_on_a_server_the_class_reaches_gives_the_address_without_a_warning(open_page):
    page, watch = open_page(chart=False)

    def reachable(route):  # as a server started with --host 0.0.0.0 answers: its LAN address
        response = route.fetch()
        body = response.json()
        body.update(url=f"http://192.0.2.20:8000/watch/{body['code']}", local_only=False)
        route.fulfill(response=response, body=json.dumps(body))

    page.route("**/api/v1/sessions/*/share", reachable)
    page.get_by_test_id("share-button").click()
    expect(page.get_by_test_id("share-url")).to_contain_text("http://192.0.2.20:8000/watch/")
    expect(page.get_by_test_id("share-local")).to_be_hidden()
    expect(page.locator("#share-title")).to_have_text("Students open")
    watch.assert_clean()


def test_a_viewer_sees_the_presenter_s_settings_change_live(open_page, server):
    presenter, watch = open_page(chart=False, width=1366, height=768)
    presenter.get_by_test_id("share-button").click()
    expect(presenter.get_by_test_id("share-code")).not_to_be_empty()  # the code comes from the server
    code = presenter.get_by_test_id("share-code").inner_text().replace(" ", "")
    viewer = presenter.context.new_page()
    viewer.set_viewport_size({"width": 1366, "height": 768})
    viewer.goto(f"{server}/watch/{code}")
    wait_connected(viewer)
    settings = viewer.get_by_test_id("watched-hyper")
    expect(settings).to_be_visible()

    def shown(name: str):  # the value a viewer reads under one setting's name
        return settings.locator(f'[data-name="{name}"] dd')

    expect(shown("dataset")).to_have_text("circle")
    expect(shown("learning_rate")).to_have_text("0.03")
    expect(shown("activation")).to_have_text("tanh")
    expect(shown("hidden_layers")).to_have_text("neurons: 4 · 2")
    expect(shown("batch_size")).to_have_text("10")
    expect(shown("speed")).to_have_text("100 steps/s")

    presenter.get_by_test_id("activation").select_option("relu")
    field = presenter.get_by_test_id("learning-rate")
    field.fill("0.3")
    field.press("Enter")
    presenter.locator("#speed").select_option("10")
    expect(shown("activation")).to_have_text("ReLU")
    expect(shown("learning_rate")).to_have_text("0.3")
    expect(shown("speed")).to_have_text("10 steps/s")
    screenshot(viewer, "viewer-settings")
    viewer.locator("#language-select").select_option("id")
    expect(shown("learning_rate")).to_have_text("0,3")
    expect(shown("speed")).to_have_text("10 langkah/detik")
    expect(settings.locator('[data-name="learning_rate"] dt')).to_have_text("Tingkat pembelajaran")
    assert viewer.title() == f"Backprop Lab — menonton {code[:3]} {code[3:]}"
    screenshot(viewer, "viewer-settings-id")
    watch.assert_clean()


def test_the_page_where_students_type_the_code_is_titled_in_their_language(browser, server):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{server}/watch#lang=id")
        expect(page.get_by_test_id("join-button")).to_have_text("Tonton")
        assert page.title() == "Backprop Lab — tonton sesi yang dibagikan"
    finally:
        context.close()
