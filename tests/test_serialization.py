import io
import json
import pickle
import zipfile

import numpy as np
import pytest

import numpynn as nn
from numpynn.serialization import ModelFileError, read_npz, write_npz


def every_layer_model(dtype=np.float32):
    return nn.Sequential(nn.Flatten(), nn.Linear(6, 5, rng=0, dtype=dtype),
                         nn.BatchNorm(5, momentum=0.3, dtype=dtype), nn.LeakyReLU(0.2),
                         nn.Dropout(0.1), nn.Linear(5, 4, init="he_normal", rng=1, dtype=dtype),
                         nn.LayerNorm(4, eps=1e-3, dtype=dtype), nn.ELU(0.5), nn.GELU(),
                         nn.Swish(), nn.Tanh(), nn.ScaledTanh(), nn.Sigmoid(), nn.ReLU())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_is_exact(tmp_path, dtype):
    model = every_layer_model(dtype)
    model.forward(np.random.default_rng(0).normal(size=(8, 2, 3)).astype(dtype))  # running stats
    nn.save(model, tmp_path / "model.npz")
    loaded = nn.load(tmp_path / "model.npz")
    assert [type(a) for a in loaded] == [type(b) for b in model]
    assert [repr(a) for a in loaded] == [repr(b) for b in model]
    for name, value in {**model.params(), **model.buffers()}.items():
        restored = {**loaded.params(), **loaded.buffers()}[name]
        np.testing.assert_array_equal(restored, value)
        assert restored.dtype == value.dtype
    x = np.random.default_rng(1).normal(size=(3, 6)).astype(dtype)
    model.eval(), loaded.eval()
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))
    assert list(tmp_path.iterdir()) == [tmp_path / "model.npz"]  # no temp files left


class _Exploit:
    def __reduce__(self):
        return (open, ("/tmp/numpynn-pwned", "w"))


def test_pickle_bomb_renamed_npz_is_rejected(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps(_Exploit()))
    with pytest.raises(ModelFileError, match="model.npz"):
        nn.load(path)


def test_object_array_inside_npz_is_never_unpickled(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    buf = io.BytesIO()
    np.savez(buf, __meta__=np.frombuffer(b"{}", np.uint8),
             **{"0.W": np.array([_Exploit()], dtype=object)})
    path.write_bytes(buf.getvalue())
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled"))
    with pytest.raises(ModelFileError, match="no pickle is ever loaded"):
        nn.load(path)


def test_truncated_file(tmp_path):
    path = tmp_path / "model.npz"
    nn.save(every_layer_model(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match=r"model\.npz: .*truncated|model\.npz: cannot read"):
        nn.load(path)


def _spec(model):
    return nn.serialization.to_arrays(model)


def test_wrong_shapes_in_spec(tmp_path):
    spec, arrays = _spec(nn.Sequential(nn.Linear(3, 2, rng=0)))
    spec["layers"][0]["config"]["n_in"] = 4
    write_npz(tmp_path / "m.npz", arrays, spec)
    with pytest.raises(ModelFileError, match=r"m\.npz: array '0.W' has shape \(3, 2\).*needs \(4, 2\)"):
        nn.load(tmp_path / "m.npz")


@pytest.mark.parametrize("mutate,message", [
    (lambda s: s["layers"][0].update(type="os.system"), "unknown layer type 'os.system'"),
    (lambda s: s["layers"][0].update(type="__import__"), "unknown layer type '__import__'"),
    (lambda s: s["layers"][0]["config"].update(init="xavier"), "Linear takes no \\['init'\\]"),
    (lambda s: s["layers"][0]["config"].update(n_in={"$ref": 1}), "config must be an object of"),
    (lambda s: s["layers"][0]["config"].update(n_in=10**9, n_out=10**9), "more weights than"),
    (lambda s: s.update(format="keras"), "format 'keras'"),
    (lambda s: s.update(layers="Linear"), "'layers' must be a list"),
])
def test_hostile_specs(tmp_path, mutate, message):
    spec, arrays = _spec(nn.Sequential(nn.Linear(3, 2, rng=0)))
    mutate(spec)
    write_npz(tmp_path / "m.npz", arrays, spec)
    with pytest.raises(ModelFileError, match=message):
        nn.load(tmp_path / "m.npz")


def test_missing_or_extra_arrays(tmp_path):
    spec, arrays = _spec(nn.Sequential(nn.Linear(3, 2, rng=0)))
    write_npz(tmp_path / "m.npz", {"0.W": arrays["0.W"], "9.x": np.zeros(2)}, spec)
    with pytest.raises(ModelFileError, match=r"missing: \['0.b'\]; unexpected: \['9.x'\]"):
        nn.load(tmp_path / "m.npz")


def test_not_numpynn_files(tmp_path):
    np.savez(tmp_path / "plain.npz", W=np.zeros(3))
    with pytest.raises(ModelFileError, match="missing '__meta__' metadata"):
        nn.load(tmp_path / "plain.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(ModelFileError, match="single.npy"):
        nn.load(tmp_path / "single.npy")
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "absent.npz")
    with zipfile.ZipFile(tmp_path / "json.npz", "w") as z:
        z.writestr("__meta__.npy", b"not an npy")
    with pytest.raises(ModelFileError, match="json.npz"):
        nn.load(tmp_path / "json.npz")


def test_read_write_npz_meta(tmp_path):
    write_npz(tmp_path / "c.npz", {"a": np.arange(3)}, {"epoch": 3, "history": {"loss": [1.0]}})
    arrays, meta = read_npz(tmp_path / "c.npz")
    np.testing.assert_array_equal(arrays["a"], np.arange(3))
    assert meta == {"epoch": 3, "history": {"loss": [1.0]}}
    assert json.loads(json.dumps(meta)) == meta
