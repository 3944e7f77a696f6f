"""The Flask and Django example chat pages in a real browser (headless Chromium through selenium), each app
served by a threaded WSGI server on 127.0.0.1 against the fake provider: the answer appears token by token,
a provider error mid-stream shows as text, closing the tab releases the upstream connection, four tabs at once
each get their own answer.

Needs the `selenium` package and a Chromium with its driver (Debian: `apt-get install chromium
chromium-driver`); CHROME_BIN and CHROMEDRIVER override where they are looked for. Without them the tests skip,
unless the CI variable is set, where they fail. With LITELLM_SYNC_SCREENSHOT_DIR set, each page is saved there
mid-answer (docs/img/ holds the committed screenshots:
`LITELLM_SYNC_SCREENSHOT_DIR=docs/img python -m pytest tests/test_browser.py`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import pytest

pytest.importorskip("flask")
pytest.importorskip("django")

from werkzeug.serving import make_server

import litellm_sync
from litellm_sync.testing import FakeProviderServer, Reply

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SECRET = "sk-browser-test-secret-0123456789abcdef"
MODEL = "openai/gpt-4o-mini"
POLL = 0.02  # seconds between two looks at the page
WINDOW = (720, 350)  # small screenshots


def load_example(name: str, path: Path) -> ModuleType:
    """Import an example under the module name tests/test_web.py uses (Django's ROOT_URLCONF is that name)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


flask_app = load_example("flask_chat_example", EXAMPLES / "flask_app.py")
django_app = load_example("django_chat_example", EXAMPLES / "django_app" / "app.py")


# -- the browser ----------------------------------------------------------------------------------------


class NoBrowser(Exception):
    """Why headless Chromium cannot run here, and how to fix it."""


def find_browser() -> tuple[str, str]:
    """The Chromium binary and its driver: CHROME_BIN and CHROMEDRIVER, else the usual names on PATH."""
    binary = os.environ.get("CHROME_BIN") or next(
        filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None
    )
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    missing = [name for name, found in (("chromium", binary), ("chromedriver", driver)) if not found]
    missing += [path for path in (binary, driver) if path and not os.path.isfile(path)]
    if missing:
        raise NoBrowser(
            f"no {' or '.join(missing)} found (Debian: apt-get install chromium chromium-driver; "
            "or set CHROME_BIN and CHROMEDRIVER)"
        )
    assert binary is not None and driver is not None
    return binary, driver


def start_browser(profile: Path) -> Any:
    """A headless Chromium driven by selenium, its profile, config and cache under `profile` (the user's home is
    left alone); raises NoBrowser when that cannot be had."""
    try:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:
        raise NoBrowser(f"the selenium package is not installed ({exc}); pip install '.[test]'") from exc
    binary, driver_path = find_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--disable-extensions", f"--window-size={WINDOW[0]},{WINDOW[1]}",
                     f"--user-data-dir={profile / 'chromium'}"):
        options.add_argument(argument)
    home = {"HOME": str(profile), "XDG_CONFIG_HOME": str(profile / "config"), "XDG_CACHE_HOME": str(profile / "cache")}
    try:
        service = Service(executable_path=driver_path, env={**os.environ, **home})
        return webdriver.Chrome(options=options, service=service)
    except (WebDriverException, OSError) as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise NoBrowser(f"{binary} with {driver_path} did not start: {first_line}") from exc


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium for the module, or why there is none (tried once, not once per test)."""
    try:
        driver = start_browser(tmp_path_factory.mktemp("browser"))
    except NoBrowser as exc:
        yield exc
        return
    driver.set_page_load_timeout(10)
    driver.set_script_timeout(5)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(chromium: Any) -> Any:
    """The module's browser; the test is skipped without one, and fails instead when the CI variable is set."""
    if isinstance(chromium, NoBrowser):
        reason = f"browser tests need headless Chromium: {chromium}"
        if os.environ.get("CI"):
            pytest.fail(reason + " (failing, not skipping, because CI is set)")
        pytest.skip(reason)
    return chromium


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    """The browser with its first tab; tabs a test opens are closed after it, and the first one left blank."""
    first = browser.window_handles[0]
    browser.switch_to.window(first)
    try:
        yield browser
    finally:
        for handle in browser.window_handles:
            if handle != first:
                browser.switch_to.window(handle)
                browser.close()
        browser.switch_to.window(first)
        browser.get("about:blank")  # ends any EventSource still open


# -- the apps -------------------------------------------------------------------------------------------


@dataclass
class App:
    name: str
    url: str


@pytest.fixture(params=["flask", "django"])
def app(request: pytest.FixtureRequest, server: FakeProviderServer) -> Iterator[App]:
    """An example app on a real threaded WSGI server, calling the fake provider with its own Client."""
    with litellm_sync.Client(max_retries=0, timeout=10.0) as client:
        wsgi: Callable[..., Any]
        if request.param == "flask":
            wsgi = flask_app.create_app(client, MODEL, server.url, SECRET)
        else:
            from django.core.handlers.wsgi import WSGIHandler

            django_app.configure(client, MODEL, server.url, SECRET)
            wsgi = WSGIHandler()
        httpd = make_server("127.0.0.1", 0, wsgi, threaded=True)
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield App(request.param, f"http://127.0.0.1:{httpd.server_port}/")
        finally:
            httpd.shutdown()
            httpd.server_close()
            thread.join(timeout=5)


# -- scripted provider replies --------------------------------------------------------------------------


def chunk_event(delta: dict[str, str], finish_reason: str | None = None) -> str:
    chunk = {"id": "chatcmpl-browser", "object": "chat.completion.chunk", "created": 0, "model": "gpt-4o-mini",
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
    return f"data: {json.dumps(chunk)}\n\n"


def slow_answer(words: list[str], delay: float, failure: str | None = None) -> Reply:
    """A streamed answer, one word per event `delay` seconds apart; with `failure`, that event instead of the
    end of the stream."""
    events = [chunk_event({"role": "assistant", "content": ""})]
    events += [chunk_event({"content": word}) for word in words]
    events += [failure] if failure is not None else [chunk_event({}, "stop"), "data: [DONE]\n\n"]
    return Reply(events=events, chunk_delay=delay)


def words_of(text: str) -> list[str]:
    """`text` cut into stream tokens that join back into it (each word keeps its following space)."""
    parts = text.split(" ")
    return [part + " " for part in parts[:-1]] + [parts[-1]]


# -- the page -------------------------------------------------------------------------------------------


def ask(driver: Any, url: str, question: str) -> None:
    """Open the chat page, type the question and press Send."""
    driver.get(url)
    driver.find_element("id", "q").send_keys(question)
    driver.find_element("css selector", "#f button").click()


def answer_text(driver: Any) -> str:
    return str(driver.execute_script("return document.getElementById('out').textContent"))


def watch(driver: Any, done: Callable[[str], bool], timeout: float = 10.0) -> list[str]:
    """Poll the answer every POLL seconds until `done(text)`; returns each distinct text seen, in order."""
    states: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        text = answer_text(driver)
        if not states or states[-1] != text:
            states.append(text)
        if done(text):
            return states
        if time.monotonic() > deadline:
            raise AssertionError(f"the page did not reach the expected state in {timeout} s; last texts: {states[-3:]}")
        time.sleep(POLL)


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL)
    return True


def save_screenshot(driver: Any, name: str) -> None:
    """Screenshot the page; kept under LITELLM_SYNC_SCREENSHOT_DIR when that is set."""
    png = driver.get_screenshot_as_png()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    directory = os.environ.get("LITELLM_SYNC_SCREENSHOT_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        (Path(directory) / name).write_bytes(png)


# -- tests ----------------------------------------------------------------------------------------------

CHATS = {  # per app, so that each screenshot shows its own page
    "flask": (
        "How do I stream an answer from a Flask view?",
        'Return Response(sse(stream), content_type="text/event-stream"): the server sends each event as soon '
        "as the stream yields it, so the page shows the answer word by word instead of all at the end.",
    ),
    "django": (
        "How do I stream an answer from a Django view?",
        'Return StreamingHttpResponse(sse(stream), content_type="text/event-stream"): each event goes out as '
        "soon as the stream yields it, so the page shows the answer word by word instead of all at the end.",
    ),
}


def test_answer_appears_incrementally(tab: Any, app: App, server: FakeProviderServer) -> None:
    question, answer = CHATS[app.name]
    server.enqueue(slow_answer(words_of(answer), delay=0.06))
    ask(tab, app.url, question)
    half = len(answer) // 2
    states = watch(tab, lambda text: len(text) >= half)
    save_screenshot(tab, f"chat-{app.name}.png")  # mid-answer
    states += watch(tab, lambda text: text == answer)[1:]
    intermediate = [s for s in states if s and s != answer]
    assert len(intermediate) >= 2, f"the answer did not stream: the page showed {states}"
    assert all(answer.startswith(s) for s in intermediate), states
    request = server.requests[-1]
    assert request.json["stream"] is True
    assert request.json["messages"][-1]["content"] == question


OVERLOADED = {"message": f"The model is overloaded (request by key {SECRET})", "type": "server_error",
              "code": "overloaded"}
FAILURES = {  # what the provider sends after part of the answer, and a word the page must show about it
    "error-event": (f"data: {json.dumps({'error': OVERLOADED})}\n\n", "overloaded"),
    "broken-json": (f'data: {{"choices": [{{"delta": {{"content": "{SECRET}\n\n', "JSON"),
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_provider_error_mid_stream_is_shown(tab: Any, app: App, server: FakeProviderServer, failure: str) -> None:
    event, explanation = FAILURES[failure]
    server.enqueue(slow_answer(["Half ", "an ", "answer"], delay=0.05, failure=event))
    ask(tab, app.url, "Will this finish?")
    states = watch(tab, lambda text: "[error:" in text)
    text = states[-1]
    assert text.startswith("Half an answer\n[error: "), text
    assert explanation in text
    page = tab.page_source
    assert SECRET not in page and SECRET[:12] not in page
    assert "Traceback" not in page and 'File "' not in page


def test_closing_the_tab_releases_the_upstream_connection(tab: Any, app: App, server: FakeProviderServer) -> None:
    assert server.wait_for_open_connections(0, timeout=5), "connections left over from an earlier test"
    first = tab.current_window_handle
    server.enqueue(slow_answer(["tick "] * 1000, delay=0.01))  # ten seconds of answer
    tab.switch_to.new_window("tab")
    ask(tab, app.url, "Keep talking")
    watch(tab, lambda text: "tick tick" in text)
    assert server.open_connections == 1
    tab.close()
    tab.switch_to.window(first)
    assert server.wait_for_open_connections(0, timeout=2.0), "closing the tab left the upstream stream open"
    assert len(server.requests) == 1


def test_four_tabs_each_get_their_own_answer(tab: Any, app: App, server: FakeProviderServer) -> None:
    handles = [tab.current_window_handle]
    for _ in range(3):
        tab.switch_to.new_window("tab")
        handles.append(tab.current_window_handle)
    questions = [f"Question from tab {n}?" for n in range(4)]
    answers = [" ".join([f"tab-{n}-answer"] * 24) for n in range(4)]
    for n, handle in enumerate(handles):
        # One scripted reply per request, in arrival order: wait for tab n's request before the next tab asks.
        server.enqueue(slow_answer(words_of(answers[n]), delay=0.15))
        tab.switch_to.window(handle)
        ask(tab, app.url, questions[n])
        assert wait_until(lambda n=n: len(server.requests) == n + 1), f"tab {n}'s request never reached the provider"
        assert server.requests[n].json["messages"][-1]["content"] == questions[n]

    texts = [""] * 4
    all_streaming_at_once = False
    deadline = time.monotonic() + 15
    while texts != answers:
        assert time.monotonic() < deadline, f"the tabs did not all finish: {texts}"
        for n, handle in enumerate(handles):
            tab.switch_to.window(handle)
            texts[n] = answer_text(tab)
            assert answers[n].startswith(texts[n]), f"tab {n} shows {texts[n]!r}, not its own answer"
        all_streaming_at_once |= all(text and text != answer for text, answer in zip(texts, answers))
        time.sleep(POLL)
    assert all_streaming_at_once, "the four answers never streamed at the same time"
