"""numpynn playground without a browser: settings, sessions, views, exports, and the Starlette
app through its TestClient (HTTP and the WebSocket)."""
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient

import numpynn as nn
from numpynn.cli import main
from numpynn.cli.config import RunConfig
from numpynn.course.explain import explain, format_number
from numpynn.playground import app as webapp
from numpynn.playground import export, views
from numpynn.playground.session import Session
from numpynn.playground.settings import (MAX_CSV_BYTES, Settings, SettingsError,
                                         parse_points_csv, parse_query, parse_settings)

SPIRAL = {"dataset": "spiral", "layers": [{"units": 8}, {"units": 8}], "lr": "0.03"}


# ---------------------------------------------------------------------------- settings
@pytest.mark.parametrize("values, message", [
    ({"lr": "-1"}, r"lr must be in \(0, 10\]; got -1.0"),
    ({"lr": "nan"}, r"lr must be .*; got nan"),
    ({"lr": "fast"}, r"lr must be a number; got 'fast'"),
    ({"layers": [{"units": 0}]}, r"layers\[0\]\.units must be an integer in \[1, 16\]; got 0"),
    ({"layers": [{"activation": "rleu"}]}, r"unknown layers\[0\]\.activation 'rleu'; choose"),
    ({"features": []}, r"features must be a non-empty list"),
    ({"dataset": "sine", "loss": "mse"}, r"features x1, x2: 'sine' has one input x1"),
    ({"dataset": "sine", "features": ["x1"], "loss": "bce"}, r"loss 'bce' is for classif"),
    ({"speed": 3}, r"unknown setting\(s\) speed"),
])
def test_bad_settings_name_the_field(values, message):
    with pytest.raises(SettingsError, match=message):
        parse_settings(values)


def test_settings_round_trip_through_the_url_query():
    s = parse_settings({**SPIRAL, "features": ["sin(x1)", "x1"], "optimizer": "adam",
                        "layers": [{"units": 3, "activation": "relu", "dropout": "0.25",
                                    "batchnorm": True}]})
    assert s.features == ("x1", "sin(x1)")  # canonical order
    assert parse_query(s.to_query()) == s
    assert parse_query("") == Settings()


@pytest.mark.parametrize("text, message", [
    ("x1,x2,label\n1,2,1\n", r"1 data rows; expected 4 to"),
    ("1,2,1\n1,2\n3,4,0\n5,5,1\n", r"row 2 is '1,2'; expected three values"),
    ("1,2,1\n1,2,2\n3,4,0\n5,5,1\n", r"row 2 has label '2'; expected 0 or 1"),
    ("1,2,1\n1,x,0\n3,4,0\n5,5,1\n", r"row 2 .* must be numbers"),
    ("1,2,1\n1,99,0\n3,4,0\n5,5,1\n", r"row 2 has the point \(1, 99\)"),
    ("1,2,1\n1,2,1\n3,4,1\n5,5,1\n", r"the same label"),
])
def test_bad_csv_files_get_a_clear_message(text, message):
    with pytest.raises(SettingsError, match=message):
        parse_points_csv(text)


# ---------------------------------------------------------------------------- session
def test_the_inspector_shows_explains_numbers():
    session = Session(parse_settings(SPIRAL))
    session.train_for(0.01)
    shown = views.inspect(session, "train", 5)
    e = explain(session.model, session.F_train[5], session.t_train[5], nn.BCE(), 0.03)
    for l in range(3):
        np.testing.assert_array_equal(shown["z"][l], e.z[l])
        np.testing.assert_array_equal(shown["delta"][l], e.delta[l])
    np.testing.assert_array_equal(shown["grads"]["W2"], e.grads["W2"])
    edge = shown["edges"]["2,3,4"]  # W2[3, 4]
    assert edge[1].endswith(f"= {format_number(e.grads['W2'][2, 3], 4)}")
    assert edge[2].endswith(f"= {format_number(e.updated['W2'][2, 3], 4)}")
    neuron = shown["neurons"]["1,2"]
    assert neuron[0].endswith(f"= {format_number(e.z[0][1], 4)}")
    assert neuron[2].endswith(f"= {format_number(e.delta[0][1], 4)}")
    assert shown["text"] == e.to_text(4)  # the numpynn explain text itself
    phases = [stage["phase"] for stage in shown["stages"]]
    assert phases == ["forward"] * 4 + ["loss"] + ["backward"] * 3 + ["update"]


def test_a_frame_holds_the_boundary_and_every_neuron():
    session = Session(parse_settings({**SPIRAL, "features": ["x1", "x2", "x1*x2"]}))
    frame = views.frame(session)
    assert frame["boundary"]["kind"] == "2d" and frame["epoch"] == 0
    assert [len(column) for column in frame["neurons"]] == [3, 8, 8, 1]
    assert np.array(frame["weights"][1]).shape == (8, 8)
    regression = Session(parse_settings({"dataset": "sine", "features": ["x1"], "loss": "mse"}))
    assert views.frame(regression)["boundary"]["kind"] == "1d"


def test_a_diverging_loss_pauses_with_a_message():
    session = Session(parse_settings({"dataset": "course-points", "features": ["x1", "x1^2"],
                                      "loss": "mse", "lr": 5, "layers": []}))
    session.running = True
    session.train_for(0.2)
    assert not session.running and "diverged" in session.message
    assert "lower the learning rate (now 5)" in session.message


def test_the_exported_python_code_reproduces_the_pages_weights(tmp_path):
    session = Session(parse_settings({**SPIRAL, "optimizer": "adam", "layers": [
        {"units": 5, "dropout": 0.1}, {"units": 3, "activation": "relu", "init": "he_normal"}]}))
    for _ in range(3):
        session.train_epoch()
    (tmp_path / "play.py").write_text(export.python_code(session))
    here = {**os.environ, "PYTHONPATH": str(Path(nn.__file__).parents[1])}  # this numpynn
    subprocess.run([sys.executable, "play.py"], cwd=tmp_path, check=True, capture_output=True,
                   env=here)
    trained = nn.load(tmp_path / "playground-model.npz")
    for name, value in session.model.params().items():
        np.testing.assert_array_equal(trained.params()[name], value, err_msg=name)


def test_the_exported_config_is_a_run_config_that_says_what_differs():
    session = Session(parse_settings({**SPIRAL, "features": ["x1", "x2", "x1^2"]}))
    text = export.train_toml(session)
    cfg = RunConfig.from_toml_text(text)
    assert (cfg.dataset, cfg.hidden, cfg.activation, cfg.lr) == ("spiral", (8, 8), "tanh", 0.03)
    assert "# differs from the page: features x1, x2, x1^2" in text


# ---------------------------------------------------------------------------- the app
@pytest.fixture
def client():
    with TestClient(webapp.create_app(max_sessions=2)) as c:
        yield c


def _until(ws, kind, count=200):
    for _ in range(count):
        message = ws.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


def test_the_page_and_its_assets_are_served_by_the_package(client):
    page = client.get("/").text
    for hook in ("train", "step", "reset", "loss", "epoch", "boundary", "dataset", "lr", "error"):
        assert f'id="{hook}"' in page
    assert "http" not in page.replace("http-equiv", "")  # no CDN: every asset is local
    assert client.get("/static/playground.js").status_code == 200
    assert client.get("/static/playground.css").status_code == 200


def test_a_websocket_session_trains_inspects_exports_and_is_freed(client):
    with client.websocket_connect("/ws") as ws:
        session = _until(ws, "hello")["session"]
        assert client.get("/api/sessions").json() == {"sessions": 1}
        ws.send_json({"type": "settings", "settings": SPIRAL})
        assert _until(ws, "settings")["settings"]["dataset"] == "spiral"
        first = _until(ws, "frame")
        ws.send_json({"type": "settings", "settings": {**SPIRAL, "lr": "-1"}})
        assert "lr must be in (0, 10]; got -1.0" in _until(ws, "error")["message"]
        ws.send_json({"type": "train", "on": True})
        frames = [_until(ws, "frame") for _ in range(3)]
        ws.send_json({"type": "train", "on": False})
        assert frames[-1]["epoch"] > first["epoch"] and frames[-1]["loss"] < first["loss"]
        ws.send_json({"type": "inspect", "split": "test", "index": 2})
        assert _until(ws, "inspection")["index"] == 2
        ws.send_json({"type": "inspect", "index": 10**6})
        assert "sample index must be in" in _until(ws, "error")["message"]
        ws.send_json({"type": "dance"})
        assert "unknown message 'dance'" in _until(ws, "error")["message"]
        model = client.get(f"/api/export/{session}/model.npz")
        assert model.status_code == 200
        toml = client.get(f"/api/export/{session}/playground.toml").text
        assert RunConfig.from_toml_text(toml).dataset == "spiral"
        assert "nn.Sequential(" in client.get(f"/api/export/{session}/playground.py").text
    assert client.get("/api/sessions").json() == {"sessions": 0}  # closing the tab frees it


def test_the_exported_model_loads(client, tmp_path):
    with client.websocket_connect("/ws") as ws:
        session = _until(ws, "hello")["session"]
        ws.send_json({"type": "settings", "settings": SPIRAL})
        _until(ws, "frame")
        (tmp_path / "m.npz").write_bytes(client.get(f"/api/export/{session}/model.npz").content)
    model = nn.load(tmp_path / "m.npz")
    assert [type(layer).__name__ for layer in model] == ["Linear", "Tanh", "Linear", "Tanh",
                                                         "Linear", "Sigmoid"]


def test_csv_upload_is_validated_and_size_limited(client):
    with client.websocket_connect("/ws") as ws:
        session = _until(ws, "hello")["session"]
        bad = client.post(f"/api/csv/{session}", content=b"1,2,3\n")
        assert bad.status_code == 400 and "data rows" in bad.json()["error"]
        big = client.post(f"/api/csv/{session}", content=b"0" * (MAX_CSV_BYTES + 10_000))
        assert big.status_code == 413
        rows = "x1,x2,label\n" + "".join(f"{i % 5},{i % 3},{i % 2}\n" for i in range(40))
        assert client.post(f"/api/csv/{session}", content=rows.encode()).json() == {"rows": 40}
        ws.send_json({"type": "settings", "settings": {"dataset": "csv"}})
        points = _until(ws, "points")
        assert len(points["train"]["x"]) + len(points["test"]["x"]) == 40
    assert client.post("/api/csv/nosuchsession", content=rows.encode()).status_code == 404


def test_more_tabs_than_the_cap_are_told_to_close_one(client):
    with client.websocket_connect("/ws") as a, client.websocket_connect("/ws") as b:
        _until(a, "hello"), _until(b, "hello")
        with client.websocket_connect("/ws") as c:
            assert "close another playground tab" in c.receive_json()["message"]


def test_the_command_warns_for_another_host_and_prints_its_url(monkeypatch, capsys):
    served = []
    monkeypatch.setattr(webapp, "serve", lambda sock, app=None: served.append(sock.close()))
    assert main(["playground", "--port", "0", "--no-browser"]) == 0
    assert "numpynn playground: http://127.0.0.1:" in capsys.readouterr().out
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["playground", "--host", "0.0.0.0", "--port", "0", "--no-browser"]) == 0
    assert "anyone who can reach this machine" in str(caught[0].message) and len(served) == 2
