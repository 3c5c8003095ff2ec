"""numpynn playground in a real browser: Debian's headless Chromium driven by Selenium.

The browser is the system's (/usr/bin/chromium with /usr/bin/chromedriver): Selenium is given
both paths and runs offline, so nothing is downloaded. Without them these tests fail with the
apt-get line; scripts/test.sh installs them. The server runs in a thread on a free port.
"""
import os
import shutil
import tempfile
import threading
import urllib.request
from pathlib import Path

import pytest

import numpynn as nn
from numpynn.course.explain import explain, format_number
from numpynn.playground.app import bind, make_server, url_of
from numpynn.playground.session import draw_data, feature_map
from numpynn.playground.settings import parse_query

pytestmark = pytest.mark.browser
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
WAIT = 15  # seconds any one condition may take on a busy 2-core machine
MOONS = "dataset=moons&seed=3&lr=0.1&layers=4:tanh:xavier_uniform:0:0,3:sigmoid:xavier_normal:0:0"


@pytest.fixture(scope="module")
def url():
    sock = bind("127.0.0.1", 0)
    server = make_server(sock)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield url_of(sock)
    server.should_exit = True
    thread.join(10)


def start_chromium():
    """Debian's headless Chromium under Selenium, offline, in a fresh profile folder:
    ``(driver, profile)``; the caller quits the driver and removes the folder."""
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a browser or driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="numpynn-chromium-")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options), profile


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail(f"{CHROMIUM} or {CHROMEDRIVER} is missing: apt-get install chromium "
                    "chromium-driver")
    driver, profile = start_chromium()
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _wait(browser, condition, what):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, WAIT).until(lambda _: condition(), message=what)


def _open(browser, url, query=""):
    browser.get("about:blank")
    browser.get(url + ("#" + query if query else ""))
    _wait(browser, lambda: browser.execute_script("return document.body.dataset.session"),
          "the WebSocket session")
    _wait(browser, lambda: _text(browser, "loss") not in ("", "–"), "the first frame")


def _text(browser, element_id):
    return browser.find_element("id", element_id).text


def _canvas(browser):
    return browser.execute_script("return document.getElementById('boundary').toDataURL()")


def test_the_page_loads_with_its_hooks(browser, url):
    _open(browser, url)
    for hook in ("train", "step", "reset", "loss", "epoch", "boundary", "dataset", "lr", "error"):
        assert browser.find_element("id", hook)
    assert _text(browser, "epoch") == "0" and float(_text(browser, "loss")) > 0
    assert not browser.find_element("id", "error").is_displayed()


def test_training_raises_the_epoch_lowers_the_loss_and_changes_the_boundary(browser, url):
    _open(browser, url, "dataset=gaussians&lr=0.1")
    loss, boundary = float(_text(browser, "loss")), _canvas(browser)
    browser.find_element("id", "train").click()
    _wait(browser, lambda: int(_text(browser, "epoch")) >= 20, "20 epochs")
    browser.find_element("id", "train").click()  # pause
    assert float(_text(browser, "loss")) < loss
    assert _canvas(browser) != boundary


def test_a_negative_learning_rate_shows_an_error_and_the_page_goes_on(browser, url):
    _open(browser, url)
    field = browser.find_element("id", "lr")
    browser.execute_script("arguments[0].value = '-1'; arguments[0].dispatchEvent("
                           "new Event('change'))", field)
    _wait(browser, lambda: browser.find_element("id", "error").is_displayed(), "the error")
    assert "lr must be in (0, 10]; got -1.0" in _text(browser, "error")
    browser.execute_script("arguments[0].value = '0.3'; arguments[0].dispatchEvent("
                           "new Event('change'))", field)
    _wait(browser, lambda: not browser.find_element("id", "error").is_displayed(), "no error")
    browser.find_element("id", "step").click()
    _wait(browser, lambda: _text(browser, "epoch") == "1", "one epoch")


def test_the_url_restores_a_shared_set_up(browser, url):
    _open(browser, url, "dataset=xor&lr=0.1&features=x1,x2,x1*x2&layers=3:relu:he_normal:0:0")
    value = lambda element_id: browser.find_element("id", element_id).get_attribute("value")
    assert (value("dataset"), value("lr")) == ("xor", "0.1")
    boxes = browser.find_elements("css selector", ".layer-box .units input")
    assert [box.get_attribute("value") for box in boxes] == ["3"]
    assert len(browser.find_elements("css selector", ".neuron")) == 3 + 3 + 1


def _download(url, session, name):
    with urllib.request.urlopen(f"{url}api/export/{session}/{name}", timeout=WAIT) as reply:
        return reply.read()


def test_the_inspector_shows_explains_numbers_for_the_exported_model(browser, url, tmp_path):
    _open(browser, url, MOONS)
    for epoch in ("1", "2"):
        browser.find_element("id", "step").click()
        _wait(browser, lambda: _text(browser, "epoch") == epoch, f"epoch {epoch}")
    browser.execute_script("document.getElementById('sample-index').value = '7'")
    browser.execute_script("document.getElementById('edge-2,3,2').dispatchEvent("
                           "new MouseEvent('click'))")
    _wait(browser, lambda: "W2[3,2]" in _text(browser, "inspect-lines"), "the edge's lines")
    session = browser.execute_script("return document.body.dataset.session")
    (tmp_path / "model.npz").write_bytes(_download(url, session, "model.npz"))
    model = nn.load(tmp_path / "model.npz")  # the exported model loads

    settings = parse_query(browser.execute_script("return location.hash"))
    X_train, t_train, _, _ = draw_data(settings)
    x = feature_map(X_train, settings.features)[7]
    e = explain(model, x, t_train[7], nn.BCE(), settings.lr)
    lines = _text(browser, "inspect-lines").splitlines()
    assert lines[0] == f"w = W2[3,2] = {format_number(e.params['W2'][2, 1], 4)}"
    assert lines[1].endswith(f"= {format_number(e.grads['W2'][2, 1], 4)}")
    assert lines[2].endswith(f"= {format_number(e.updated['W2'][2, 1], 4)}")
    browser.execute_script("document.getElementById('neuron-1,4').click()")
    _wait(browser, lambda: "z1[4]" in _text(browser, "inspect-lines"), "the neuron's lines")
    z, a, delta = _text(browser, "inspect-lines").splitlines()[:3]
    assert z.endswith(f"= {format_number(e.z[0][3], 4)}")
    assert a.endswith(f"= {format_number(e.a[0][3], 4)}")
    assert delta.endswith(f"= {format_number(e.delta[0][3], 4)}")
    worked = browser.execute_script("return document.getElementById('worked').textContent")
    assert worked == e.to_text(4)  # the collapsed worked solution is numpynn explain's text


def test_the_step_mode_walks_forward_backward_then_updates(browser, url):
    _open(browser, url, MOONS)
    browser.find_element("id", "walk-next").click()
    _wait(browser, lambda: _text(browser, "walk-stage").startswith("1/9"), "the first stage")
    stages = []
    for _ in range(8):
        browser.find_element("id", "walk-next").click()
        stages.append(_text(browser, "walk-stage").split(": ")[1].split(" ")[0])
    assert stages == ["forward"] * 3 + ["loss"] + ["backward"] * 3 + ["update"]
    assert "W1⁺ = [" in _text(browser, "walk-lines")
    highlighted = browser.find_elements("css selector", ".neuron.stage")
    assert highlighted == []  # the update touches every layer: no one column is highlighted
