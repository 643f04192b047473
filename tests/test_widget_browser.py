"""The chat widget in a real headless Chromium (Debian's), against the real running bot.

Playwright for Python drives /usr/bin/chromium (Playwright's own browser download
cannot work here). The stack is real: widget page server, Rasa (socket.io channel),
action server, SQLite tracker store. Playwright's WebSocket routing is used only to
drop the connection (reconnect test), hold replies (typing indicator) and inject a
hostile bot message (XSS test); everything else passes through untouched.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from iom.tools.launch import LiveBot, free_port
from tests.conftest import ROOT

pytest.importorskip("playwright.sync_api")

AXE = ROOT / "widget" / "node_modules" / "axe-core" / "axe.min.js"
BUNDLE = ROOT / "widget" / "dist" / "iom-chat.js"
STRINGS = json.loads((ROOT / "widget" / "src" / "strings.json").read_text("utf-8"))
KEYLINES = json.loads((ROOT / "widget" / "src" / "keylines.json").read_text("utf-8"))
NATIVE_NAMES = ["Polski", "English", "Українська", "Русский"]
# a first message per page language; the reply's language is not asserted (yet)
HELLO = {"uk": "Добрий день", "ru": "Здравствуйте"}
SCREENSHOTS = ROOT / "docs" / "screenshots"
EXIT_PATH = "/healthz?quick-exit"
SOCKET = re.compile(r"/socket\.io/")


@pytest.fixture(scope="module")
def stack(live_bot: LiveBot) -> dict[str, Any]:
    if not BUNDLE.exists():
        pytest.fail(f"{BUNDLE} is missing: run `make widget` (make test does)")
    live = live_bot
    online = live.start_widget(QUICK_EXIT_URL=EXIT_PATH)
    offline = live.start_widget(rasa_port=free_port(), QUICK_EXIT_URL=EXIT_PATH)
    foreign = live.start_widget(QUICK_EXIT_URL=EXIT_PATH)  # an origin Rasa refuses
    return {
        "bot": live,
        "url": f"http://127.0.0.1:{online}",
        "offline_url": f"http://127.0.0.1:{offline}",
        "foreign_url": f"http://127.0.0.1:{foreign}",
    }


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.set_default_timeout(30_000)
    yield tab
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def open_chat(page: Any, url: str, *, connected: bool = True) -> None:
    page.goto(url)
    page.click("#iomc-launcher")
    if connected:
        page.wait_for_function("() => window.IOMChat && window.IOMChat.connected()")


def say(page: Any, text: str) -> None:
    page.fill("#iomc-input", text)
    page.keyboard.press("Enter")


def bot_reply(page: Any, text: str) -> Any:
    reply = page.locator(".iomc-bot", has_text=text).first
    reply.wait_for()
    return reply


def any_bot_reply(page: Any) -> Any:
    reply = page.locator(".iomc-bot").first
    reply.wait_for()
    return reply


def record_user_messages(page: Any) -> list[dict[str, Any]]:
    """Pass the socket through untouched, keeping what the widget sends as user_uttered."""
    sent: list[dict[str, Any]] = []

    def route(ws: Any) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            if isinstance(message, str) and message.startswith('42["user_uttered"'):
                sent.append(json.loads(message[2:])[1])
            server.send(message)

        ws.on_message(from_page)

    page.route_web_socket(SOCKET, route)
    return sent


def stored(page: Any) -> dict[str, Any]:
    return json.loads(page.evaluate("sessionStorage.getItem('iomChat') || 'null'"))


def tracker_user_texts(bot: LiveBot, sender: str) -> list[str]:
    with sa.create_engine(f"sqlite:///{bot.db}").connect() as connection:
        rows = connection.execute(
            sa.text(
                "select data from events where sender_id = :s and type_name = 'user'"
                " order by id"
            ),
            {"s": sender},
        ).all()
    return [json.loads(row[0])["text"] for row in rows]


def test_polish_exchange(stack: dict[str, Any], page: Any) -> None:
    open_chat(page, stack["url"] + "/")
    assert page.inner_text("#iomc-send") == "Wyślij"
    assert "30 dni" in page.inner_text("#iomc-notice")  # privacy notice first
    say(page, "numer do biura IOM")
    reply = bot_reply(page, "Infolinia Migrant Info (IOM)")
    assert reply.locator('a[href="tel:+48224902044"]').count() == 1
    assert page.locator(".iomc-user").first.inner_text().endswith("numer do biura IOM")


def test_english_exchange(stack: dict[str, Any], page: Any) -> None:
    open_chat(page, stack["url"] + "/en/")
    assert page.inner_text("#iomc-send") == "Send"
    say(page, "what is the phone number of IOM?")
    reply = bot_reply(page, "Migrant Info line (IOM)")
    assert reply.locator('a[href="tel:+48224902044"]').count() == 1
    assert page.locator('.iomc-bot a[href="mailto:iomwarsaw@iom.int"]').count() >= 1


def test_quick_reply_click_sends_the_payload(stack: dict[str, Any], page: Any) -> None:
    open_chat(page, stack["url"] + "/")
    say(page, "co potrafisz?")
    button = page.get_by_role("button", name="Nauka polskiego")
    button.click()
    bot_reply(page, "kursach języka polskiego")
    assert page.locator(".iomc-user").last.inner_text().endswith("Nauka polskiego")
    assert button.is_disabled()  # a used group cannot be sent twice


def test_language_toggle_sets_the_language_sent_to_the_bot(
    stack: dict[str, Any], page: Any
) -> None:
    open_chat(page, stack["url"] + "/")
    say(page, "co potrafisz?")
    bot_reply(page, "Mogę udzielić ogólnych informacji")
    options = page.locator("#iomc-lang option")
    assert options.all_inner_texts() == NATIVE_NAMES
    assert [options.nth(i).get_attribute("lang") for i in range(4)] == [
        "pl",
        "en",
        "uk",
        "ru",
    ]
    page.select_option("#iomc-lang", "en")
    assert page.inner_text("#iomc-send") == "Send"
    assert page.get_attribute("#iomc-root", "lang") == "en"
    assert stored(page)["language"] == "en"
    # A button payload carries no words, so the toggle's metadata decides the language.
    page.get_by_role("button", name="Nauka polskiego").click()
    bot_reply(page, "City information points for migrants")


@pytest.mark.parametrize("lang", ["uk", "ru"])
def test_ukrainian_and_russian_pages(
    stack: dict[str, Any], page: Any, lang: str
) -> None:
    t = STRINGS[lang]
    open_chat(page, f"{stack['url']}/{lang}/")
    assert page.get_attribute("html", "lang") == lang
    assert page.get_attribute("#iomc-root", "lang") == lang
    assert page.input_value("#iomc-lang") == lang
    assert page.inner_text("#iomc-send") == {"uk": "Надіслати", "ru": "Отправить"}[lang]
    assert page.inner_text("#iomc-exit") == t["quickExit"]
    assert page.get_attribute("#iomc-exit", "aria-label") == t["quickExitHint"]
    assert page.get_attribute("#iomc-input", "placeholder") == t["placeholder"]
    assert page.inner_text("label[for=iomc-input]") == t["inputLabel"]
    assert page.inner_text("label[for=iomc-lang]") == t["languageLabel"]
    assert page.get_attribute("#iomc-close", "aria-label") == t["close"]
    assert page.get_attribute("#iomc-log", "aria-label") == t["log"]
    assert page.inner_text("#iomc-title") == t["title"]
    notice = page.inner_text("#iomc-notice")
    assert t["privacy"] in notice and t["emergency"] in notice
    link = page.get_by_role("link", name=t["privacyLink"])
    assert link.get_attribute("href") == f"/{lang}/privacy/"
    say(page, HELLO[lang])
    reply = any_bot_reply(page)  # some answer arrives; its language is the NLU's job
    assert (reply.locator(".iomc-sr-only").text_content() or "").startswith(t["bot"])
    you = page.locator(".iomc-user .iomc-sr-only").first.text_content() or ""
    assert you.startswith(t["you"])
    assert stored(page)["language"] == lang
    link.click()  # the privacy notice in the same language
    page.wait_for_url(re.compile(f"/{lang}/privacy/$"))
    assert page.get_attribute("html", "lang") == lang


@pytest.mark.parametrize(
    ("path", "choose", "expected"),
    [("/uk/", None, "uk"), ("/ru/", None, "ru"), ("/", "uk", "uk"), ("/", "ru", "ru")],
)
def test_messages_carry_the_ui_language_as_metadata(
    stack: dict[str, Any], page: Any, path: str, choose: str | None, expected: str
) -> None:
    """From /uk/ (or after choosing Українська in the chat) every message says "uk"."""
    sent = record_user_messages(page)
    open_chat(page, stack["url"] + path)
    if choose:
        page.select_option("#iomc-lang", choose)
        assert page.inner_text("#iomc-send") == STRINGS[choose]["send"]
    say(page, "112")
    any_bot_reply(page)
    assert [message["metadata"] for message in sent] == [{"language": expected}]
    assert sent[0]["message"] == "112"


def test_the_page_switcher_opens_each_language(
    stack: dict[str, Any], page: Any
) -> None:
    page.goto(stack["url"] + "/")
    for name, lang, path in [
        ("Українська", "uk", "/uk/"),
        ("Русский", "ru", "/ru/"),
        ("English", "en", "/en/"),
        ("Polski", "pl", "/"),
    ]:
        page.locator(".lang-switch").get_by_role("link", name=name).click()
        page.wait_for_url(stack["url"] + path)
        assert page.get_attribute("html", "lang") == lang
        assert page.get_attribute("#iomc-root", "lang") == lang
        current = page.locator(".lang-switch [aria-current=page]")
        assert current.inner_text() == name


def test_typing_indicator_shows_until_the_reply(
    stack: dict[str, Any], page: Any
) -> None:
    held: list[str] = []
    routes: list[Any] = []

    def route(ws: Any) -> None:
        server = ws.connect_to_server()
        routes.append(ws)

        def from_server(message: str | bytes) -> None:
            if isinstance(message, str) and message.startswith('42["bot_uttered"'):
                held.append(message)
            else:
                ws.send(message)

        server.on_message(from_server)

    page.route_web_socket(SOCKET, route)
    open_chat(page, stack["url"] + "/")
    say(page, "cześć")
    page.wait_for_selector("#iomc-typing", state="visible")
    for _ in range(300):  # the reply is held by the route, not shown
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the bot's reply was not seen on the socket"
    assert page.is_visible("#iomc-typing")
    for message in held:
        routes[-1].send(message)
    bot_reply(page, "Dzień dobry")
    assert page.is_hidden("#iomc-typing")


def test_reconnects_after_a_network_drop_without_losing_the_conversation(
    stack: dict[str, Any], page: Any
) -> None:
    state: dict[str, Any] = {"blocked": False, "routes": []}

    def route(ws: Any) -> None:
        if state["blocked"]:
            ws.close()
            return
        server = ws.connect_to_server()
        state["routes"].append((ws, server))

    page.route_web_socket(SOCKET, route)
    open_chat(page, stack["url"] + "/")
    say(page, "cześć")
    bot_reply(page, "Dzień dobry")
    session = stored(page)["sessionId"]

    state["blocked"] = True  # the network drops
    for ws, server in state["routes"]:
        server.close()
        ws.close()
    page.wait_for_function("() => !window.IOMChat.connected()")
    say(page, "numer do biura IOM")  # typed while offline: kept, not lost
    page.wait_for_selector(".iomc-user.iomc-pending")
    assert stored(page)["pending"], "the unsent message must survive in storage"

    state["blocked"] = False  # the network is back
    page.wait_for_function("() => window.IOMChat.connected()", timeout=30_000)
    bot_reply(page, "Infolinia Migrant Info (IOM)")
    assert page.locator(".iomc-pending").count() == 0
    assert stored(page)["sessionId"] == session
    assert tracker_user_texts(stack["bot"], session) == ["cześć", "numer do biura IOM"]

    page.reload()  # a reload keeps the conversation of this tab
    assert page.locator(".iomc-bot", has_text="Dzień dobry").count() == 1
    assert page.is_visible("#iomc-panel")


def test_quick_exit_button_clears_storage_and_replaces_history(
    stack: dict[str, Any], page: Any
) -> None:
    open_chat(page, stack["url"] + "/")
    say(page, "cześć")
    bot_reply(page, "Dzień dobry")
    assert stored(page) is not None
    length = page.evaluate("history.length")
    page.click("#iomc-exit")
    page.wait_for_url(re.compile(re.escape(EXIT_PATH) + "$"))
    assert page.evaluate("sessionStorage.length") == 0
    assert page.evaluate("history.length") == length  # replaced, not pushed
    chat = page.url.replace(EXIT_PATH, "/")
    page.go_back()  # lands on whatever was before the chat (here: about:blank)
    assert page.url != chat, "Back must not return to the chat"
    assert page.locator("#iomc-root").count() == 0


def test_escape_twice_is_a_quick_exit_and_once_is_not(
    stack: dict[str, Any], page: Any
) -> None:
    open_chat(page, stack["url"] + "/")
    say(page, "hello")
    bot_reply(page, "Hello")
    page.keyboard.press("Escape")
    page.wait_for_timeout(1700)  # outside the double-press window
    page.keyboard.press("Escape")
    page.wait_for_timeout(300)
    assert page.url.endswith("/"), "a single Esc must not leave the page"
    page.keyboard.press("Escape")
    page.wait_for_url(re.compile(re.escape(EXIT_PATH) + "$"))
    assert page.evaluate("sessionStorage.length") == 0


@pytest.mark.parametrize(("lang", "how"), [("uk", "button"), ("ru", "escape")])
def test_quick_exit_on_the_ukrainian_and_russian_pages(
    stack: dict[str, Any], page: Any, lang: str, how: str
) -> None:
    open_chat(page, f"{stack['url']}/{lang}/")
    say(page, HELLO[lang])
    any_bot_reply(page)
    assert stored(page) is not None
    length = page.evaluate("history.length")
    if how == "button":
        page.get_by_role("button", name=STRINGS[lang]["quickExitHint"]).click()
    else:
        page.keyboard.press("Escape")
        page.keyboard.press("Escape")
    page.wait_for_url(re.compile(re.escape(EXIT_PATH) + "$"))
    assert page.evaluate("sessionStorage.length") == 0
    assert page.evaluate("history.length") == length
    assert page.locator("#iomc-root").count() == 0


def test_offline_fallback_shows_the_key_lines(stack: dict[str, Any], page: Any) -> None:
    open_chat(page, stack["offline_url"] + "/", connected=False)
    fallback = page.locator("#iomc-offline")
    fallback.wait_for(state="visible", timeout=15_000)
    assert fallback.get_attribute("role") == "alert"
    for number in ("112", "+48226280120", "+48605687750", "+48224902044"):
        assert fallback.locator(f'a[href="tel:{number}"]').count() == 1
    say(page, "pomocy")
    page.wait_for_selector(".iomc-user.iomc-pending")
    assert "po odzyskaniu połączenia" in page.inner_text("#iomc-status")


@pytest.mark.parametrize("lang", ["uk", "ru"])
def test_offline_key_lines_in_ukrainian_and_russian(
    stack: dict[str, Any], page: Any, lang: str
) -> None:
    t = STRINGS[lang]
    open_chat(page, f"{stack['offline_url']}/{lang}/", connected=False)
    fallback = page.locator("#iomc-offline")
    fallback.wait_for(state="visible", timeout=15_000)
    assert fallback.get_attribute("role") == "alert"
    assert t["offlineTitle"] in fallback.inner_text()
    assert t["offlineIntro"] in fallback.inner_text()
    items = fallback.locator("li")
    assert items.count() == len(KEYLINES["lines"])
    for i, line in enumerate(KEYLINES["lines"]):
        item = items.nth(i)
        assert item.locator("a").get_attribute("href") == f"tel:{line['number']}"
        assert item.locator("a").inner_text() == line["display"]
        assert item.inner_text() == f"{line['display']} – {line['label'][lang]}"
    page.wait_for_function(
        "text => document.querySelector('#iomc-status').textContent === text",
        arg=t["reconnecting"],
    )
    say(page, HELLO[lang])
    page.wait_for_selector(".iomc-user.iomc-pending")
    assert page.inner_text("#iomc-status") == t["pending"]


def test_a_page_on_another_origin_cannot_use_the_bot(
    stack: dict[str, Any], page: Any
) -> None:
    open_chat(page, stack["foreign_url"] + "/", connected=False)
    page.locator("#iomc-offline").wait_for(state="visible", timeout=15_000)
    assert not page.evaluate("window.IOMChat.connected()")


def test_html_from_the_user_or_the_bot_is_inert(
    stack: dict[str, Any], page: Any
) -> None:
    routes: list[Any] = []

    def route(ws: Any) -> None:
        ws.connect_to_server()
        routes.append(ws)

    page.route_web_socket(SOCKET, route)
    open_chat(page, stack["url"] + "/en/")
    attack = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    say(page, attack)
    user = page.locator(".iomc-user .iomc-text").last
    assert user.inner_text() == attack
    hostile = {
        "text": '<img src=x onerror="window.__xss=3"> **safe bold** '
        "[click](javascript:window.__xss=4) [call](tel:+48224902044) "
        '<a href="javascript:window.__xss=5">raw</a>'
    }
    routes[-1].send("42" + json.dumps(["bot_uttered", hostile]))
    reply = bot_reply(page, "safe bold")
    assert reply.locator("strong").inner_text() == "safe bold"
    assert reply.locator('a[href="tel:+48224902044"]').count() == 1
    assert reply.locator('a[href^="javascript"], a:not([href])').count() == 0
    log = page.locator("#iomc-log")
    assert log.locator("img, script, [onerror]").count() == 0
    assert page.evaluate("window.__xss") is None


def serious_axe_violations(page: Any) -> list[Any]:
    page.evaluate(AXE.read_text("utf-8"))
    result = page.evaluate(
        "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa',"
        " 'best-practice']})"
    )
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}


@pytest.mark.parametrize(
    ("lang", "name", "viewport"),
    [
        ("pl", "desktop", DESKTOP),
        ("pl", "360px", PHONE),
        ("uk", "uk", DESKTOP),
        ("uk", "uk-360px", PHONE),
        ("ru", "ru", DESKTOP),
        ("ru", "ru-360px", PHONE),
    ],
)
def test_axe_finds_no_serious_violation(
    stack: dict[str, Any],
    browser: Any,
    lang: str,
    name: str,
    viewport: dict[str, int],
) -> None:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    try:
        open_chat(page, stack["url"] + ("/" if lang == "pl" else f"/{lang}/"))
        if lang == "pl":
            say(page, "co potrafisz?")
            page.get_by_role("button", name="Nauka polskiego").wait_for()
        else:
            if name == "uk" and os.environ.get("UPDATE_SCREENSHOTS"):
                # the chat open with the Ukrainian notice (docs/widget.md)
                page.screenshot(path=str(SCREENSHOTS / "widget-uk.png"))
            assert serious_axe_violations(page) == []  # before the first message
            say(page, HELLO[lang])
            any_bot_reply(page)
        assert serious_axe_violations(page) == []
        assert (
            page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        )
        assert page.get_attribute("#iomc-log", "aria-live") == "polite"
        assert page.is_visible("#iomc-exit")
        if lang == "pl" and os.environ.get("UPDATE_SCREENSHOTS"):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"widget-{name}.png"))
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/privacy/", "/uk/privacy/", "/ru/privacy/"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "360px"])
def test_axe_on_the_privacy_pages(
    stack: dict[str, Any], browser: Any, path: str, viewport: dict[str, int]
) -> None:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    try:
        page.goto(stack["url"] + path)
        assert serious_axe_violations(page) == []
        assert (
            page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        )
    finally:
        context.close()


def test_every_control_is_reachable_by_keyboard(
    stack: dict[str, Any], page: Any
) -> None:
    page.goto(stack["url"] + "/")
    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("document.activeElement.id"))
    assert "iomc-exit" in seen and "iomc-launcher" in seen
    page.focus("#iomc-launcher")
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.IOMChat.connected()")
    assert page.evaluate("document.activeElement.id") == "iomc-input"
    seen = []
    for _ in range(8):
        page.keyboard.press("Shift+Tab")
        seen.append(page.evaluate("document.activeElement.id"))
    assert {"iomc-lang", "iomc-close"} <= set(seen)
