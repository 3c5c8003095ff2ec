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


# ------------------------------------------------------------- files and sizes (bounded)
def _npy(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _zip(path, members):
    """A zip of ``{member name: bytes}``, each written as given (a hand-made .npz)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _model_members(model, **replace):
    spec, arrays = _spec(model)
    members = {"__meta__.npy": _npy(np.frombuffer(json.dumps(spec).encode(), np.uint8)),
               **{f"{name}.npy": _npy(a) for name, a in arrays.items()}}
    return {**members, **replace}


def test_a_fifo_is_refused_before_opening(tmp_path):
    import os
    import threading
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    errors = []
    reader = threading.Thread(target=lambda: errors.append(pytest.raises(ModelFileError,
                                                                         nn.load, fifo)),
                              daemon=True)  # a regression blocks in open(): the test fails
    reader.start()
    reader.join(timeout=10)
    assert errors and "not a regular file" in str(errors[0].value)
    with pytest.raises(ModelFileError, match="not a regular file"):
        read_npz(tmp_path)  # a folder neither


def test_member_data_must_be_exactly_what_its_header_declares(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3, rng=0))
    good = _npy(model[0].W)
    long = _zip(tmp_path / "long.npz", _model_members(model, **{"0.W.npy": good + b"\0"}))
    with pytest.raises(ModelFileError, match=r"long\.npz: array '0\.W' is longer than its header "
                                             r"says \(48 bytes\)"):
        nn.load(long)
    short = _zip(tmp_path / "short.npz", _model_members(model, **{"0.W.npy": good[:-4]}))
    with pytest.raises(ModelFileError, match=r"short\.npz: array '0\.W' is truncated: its header "
                                             r"declares 48 bytes, the file holds 44"):
        read_npz(short)


def test_declared_sizes_are_checked_before_reading(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10**12,)})
    path = _zip(tmp_path / "huge.npz", _model_members(nn.Sequential(nn.Linear(4, 3, rng=0)),
                                                      **{"0.W.npy": header.getvalue()}))
    with pytest.raises(ModelFileError, match=r"huge\.npz: the arrays declare 7\.28 TiB; numpynn "
                                             r"reads at most 4 GiB from one file"):
        nn.load(path)
    write_npz(tmp_path / "c.npz", {"a": np.zeros(1000)}, {})
    with pytest.raises(ModelFileError, match=r"the arrays declare 7\.81 KiB; numpynn reads at "
                                             r"most 1000 B"):
        read_npz(tmp_path / "c.npz", max_bytes=1000)


def test_read_npz_checks_expected_arrays_before_reading(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3, rng=0))
    write_npz(tmp_path / "c.npz", {"model/0.W": np.zeros((5, 3), np.float32)}, {})
    expect = nn.serialization.model_arrays(model, prefix="model/")
    assert sorted(expect) == ["model/0.W", "model/0.b"]
    with pytest.raises(ModelFileError, match=r"array 'model/0\.W' has shape \(5, 3\) and dtype "
                                             r"float32; the architecture needs \(4, 3\) float32"):
        read_npz(tmp_path / "c.npz", expect=expect)


def test_metadata_is_bounded_in_size_and_depth(tmp_path):
    deep = np.frombuffer(("[" * 50_000 + "]" * 50_000).encode(), np.uint8)
    path = _zip(tmp_path / "deep.npz", {"__meta__.npy": _npy(deep)})
    with pytest.raises(ModelFileError, match=r"deep\.npz: metadata: JSON nested more than 32"):
        read_npz(path)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False,
                                                  "shape": (17 * 2**20,)})
    path = _zip(tmp_path / "big.npz", {"__meta__.npy": header.getvalue()})
    with pytest.raises(ModelFileError, match=r"big\.npz: metadata of 17 MiB; the limit is 16 MiB"):
        read_npz(path)


def test_fortran_ordered_and_big_endian_members(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3, rng=0))
    path = _zip(tmp_path / "f.npz", _model_members(model, **{
        "0.W.npy": _npy(np.asfortranarray(model[0].W))}))
    np.testing.assert_array_equal(nn.load(path)[0].W, model[0].W)
    path = _zip(tmp_path / "be.npz", _model_members(model, **{
        "0.W.npy": _npy(model[0].W.astype(">f4"))}))
    with pytest.raises(ModelFileError, match=r"dtype >f4; the architecture needs \(4, 3\) float32"):
        nn.load(path)
