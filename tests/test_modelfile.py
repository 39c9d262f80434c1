"""Model files: a round trip, and every way a file from elsewhere can be wrong."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from tiny import rewrite_model

import timbre_explorer
from timbre_explorer.core.errors import ModelFileError, ParameterError
from timbre_explorer.core.model.modelfile import FORMAT, FORMAT_VERSION, ModelFile, load_model, save_model
from timbre_explorer.core.model.vae import Normalization, TimbreVAE, VAEConfig

TOY = VAEConfig(n_bins=20, hidden=32, layers=2, latent=4)
NORM = Normalization(floor=1e-6, mean=-3.5, scale=2.25)
META = {"preset": "toy", "instruments": ["Cello", "Flûte"], "seed": 7, "metrics": {"loss": 1.5}}


class Forbidden(BaseException):
    """Not an Exception: a loader that catches everything cannot turn it into a ModelFileError."""


@pytest.fixture
def no_unpickling(monkeypatch):
    def refuse(*args, **kwargs):
        raise Forbidden("unpickling was attempted")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = TimbreVAE(TOY)
    extras = {"map.z": torch.randn(10, 2), "map.instrument": torch.arange(10)}
    path = tmp_path / "toy.timbre.safetensors"
    save_model(path, model=model, normalization=NORM, meta=META, tensors=extras)
    return path, model, extras


def _refused(path, phrase):
    with pytest.raises(ModelFileError, match=phrase) as info:
        load_model(path)
    assert str(path) in str(info.value)


def test_round_trip_gives_identical_outputs(saved):
    path, model, extras = saved
    mf = load_model(path)
    assert isinstance(mf, ModelFile) and mf.config == TOY and mf.normalization == NORM
    assert mf.meta == {**META, "app_version": timbre_explorer.__version__}
    loaded = mf.build_model()
    assert not loaded.training
    x = torch.randn(5, 20)
    model.eval()
    with torch.no_grad():
        a, b = model(x, sample=False), loaded(x, sample=False)
    assert torch.equal(a.x_mu, b.x_mu) and torch.equal(a.x_logvar, b.x_logvar) and torch.equal(a.mu, b.mu)
    assert set(mf.arrays) == set(extras)
    for k, t in extras.items():
        assert mf.arrays[k].dtype == t.numpy().dtype and np.array_equal(mf.arrays[k], t.numpy())
    with safe_open(str(path), "pt") as f:
        doc = json.loads(f.metadata()["timbre_explorer"])
        assert doc["format"] == FORMAT and doc["format_version"] == FORMAT_VERSION
        assert {k for k in f.keys() if k.startswith("vae.")} == {f"vae.{k}" for k in model.state_dict()}


def test_expected_metadata(saved):
    path = saved[0]
    assert load_model(path, expected={"preset": "toy"}).meta["preset"] == "toy"
    with pytest.raises(ModelFileError, match="preset is 'toy', expected 'other'"):
        load_model(path, expected={"preset": "other"})


def test_foreign_files_are_refused_without_unpickling(tmp_path, no_unpickling):
    pickled = tmp_path / "model.pt"
    torch.save(TimbreVAE(TOY).state_dict(), pickled)
    _refused(pickled, "not a safetensors file")
    noise = tmp_path / "noise.timbre.safetensors"
    noise.write_bytes(torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(1),
                                    dtype=torch.uint8).numpy().tobytes())
    _refused(noise, "not a safetensors file")
    empty = tmp_path / "empty.timbre.safetensors"
    empty.write_bytes(b"")
    _refused(empty, "empty")
    _refused(tmp_path / "missing.timbre.safetensors", "no such model file")
    _refused(tmp_path, "not a regular file")


def test_damaged_files_are_refused(saved, no_unpickling):
    path = saved[0]
    data = path.read_bytes()
    path.write_bytes(data[:-100])
    _refused(path, "truncated")
    n = int.from_bytes(data[:8], "little")
    path.write_bytes((len(data) + 10).to_bytes(8, "little") + data[8:])
    _refused(path, "invalid header length")
    path.write_bytes(data[:8] + b"{" + b" " * (n - 1) + data[8 + n:])
    _refused(path, "header is not JSON")
    path.write_bytes(data[:8] + b"[" * n + data[8 + n:])  # nested too deep for the JSON parser
    _refused(path, "header is not JSON")
    path.write_bytes(data + bytes(16))  # caught by the safetensors library, reported as damage
    _refused(path, "damaged")


def test_a_safetensors_file_without_our_metadata_is_refused(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"weight": torch.zeros(3)}, str(path))
    _refused(path, "not a Timbre Explorer model")
    save_file({"weight": torch.zeros(3)}, str(path), metadata={"timbre_explorer": "{not json"})
    _refused(path, "not JSON")


@pytest.mark.parametrize("edit, phrase", [
    (lambda d: d.update(format_version=FORMAT_VERSION + 1), "newer version .* please update"),
    (lambda d: d.update(format="something-else"), "not a Timbre Explorer model"),
    (lambda d: d["config"].update(latent=5), "do not match its settings .*vae.enc_mu.weight"),
    (lambda d: d["config"].update(latent=0), "invalid model settings"),
    (lambda d: d["normalization"].update(scale=-1.0), "invalid model settings"),
    (lambda d: d.pop("normalization"), "invalid model settings"),
    (lambda d: d["normalization"].update(mean=10**400), "invalid model settings"),
])
def test_bad_documents_are_refused(saved, edit, phrase):
    rewrite_model(saved[0], doc=edit)
    _refused(saved[0], phrase)


@pytest.mark.parametrize("edit, phrase", [
    (lambda t: t["vae.dec_mu.weight"].view(-1).__setitem__(3, math.nan), "NaN"),
    (lambda t: t["map.z"].view(-1).__setitem__(0, math.inf), "NaN or infinite"),
    (lambda t: t.pop("vae.dec_mu.bias"), "missing vae.dec_mu.bias"),
    (lambda t: t.update({"vae.extra.weight": torch.zeros(2)}), "unexpected vae.extra.weight"),
    (lambda t: t.update({"vae.enc_mu.bias": torch.zeros(4, dtype=torch.float64)}), "F64"),
    (lambda t: t.update({"map.z": torch.zeros(2, dtype=torch.float64)}), "unsupported type F64"),
    (lambda t: t.update({"map.envelope": torch.tensor([math.inf], dtype=torch.float16)}), "NaN or infinite"),
])
def test_bad_tensors_are_refused(saved, edit, phrase):
    rewrite_model(saved[0], tensors=edit)
    _refused(saved[0], phrase)


def test_the_map_is_stored_in_16_bits_where_it_fits_and_read_back_wide(tmp_path):
    """Codes and level curves take half the bytes in the file (the bundled model's map is most of it); what is read
    back has the dtypes the app computes with, codes exact and curves within float16's precision."""
    envelope = torch.linspace(-90.0, 0.0, 96).reshape(2, 48)
    extras = {"map.instrument": torch.tensor([0, 112]), "map.pitch": torch.tensor([-1, 127]),
              "map.big": torch.tensor([0, 1 << 40]), "map.envelope": envelope, "map.z": torch.randn(2, 2),
              "map.descriptors": torch.tensor([[1e5, 1.0]])}  # beyond float16: kept float32
    path = tmp_path / "compact.timbre.safetensors"
    save_model(path, model=TimbreVAE(TOY), normalization=NORM, meta=META, tensors=extras)
    with safe_open(str(path), "pt") as f:
        stored = {k: f.get_slice(k).get_dtype() for k in f.keys() if not k.startswith("vae.")}
    assert stored == {"map.instrument": "I16", "map.pitch": "I16", "map.big": "I64", "map.envelope": "F16",
                      "map.z": "F32", "map.descriptors": "F32"}
    mf = load_model(path)
    for k, t in extras.items():
        assert mf.arrays[k].dtype == t.numpy().dtype
        assert np.allclose(mf.arrays[k], t.numpy(), rtol=1e-3, atol=0), k
    assert np.array_equal(mf.arrays["map.big"], extras["map.big"].numpy())


def test_a_failed_save_leaves_the_existing_file_untouched(saved):
    path, model, _ = saved
    before = path.read_bytes()
    files = sorted(path.parent.iterdir())
    bad_calls = [dict(meta={"loss": math.nan}), dict(meta={"what": object()}), dict(meta={"config": {}}),
                 dict(meta={}, tensors={"map.z": torch.tensor([math.nan])}),
                 dict(meta={}, tensors={"map.z": torch.zeros(3, dtype=torch.float64)}),
                 dict(meta={}, tensors={"vae.x": torch.zeros(3)}), dict(meta={"notes": "x" * (17 << 20)})]
    for kwargs in bad_calls:
        with pytest.raises(ParameterError):
            save_model(path, model=model, normalization=NORM, **kwargs)
    with torch.no_grad():
        model.dec_mu.bias[0] = math.nan
    with pytest.raises(ParameterError, match="diverged"):
        save_model(path, model=model, normalization=NORM, meta={})
    assert path.read_bytes() == before and sorted(path.parent.iterdir()) == files


def _scaled(name, factor):
    return lambda t: t.update({name: t[name] * factor})


@pytest.mark.parametrize("doc, tensors, phrase", [
    (lambda d: d.update(note_seconds=1e12), None, r"note_seconds: 1000000000000\.0 is greater than the maximum"),
    (lambda d: d.pop("preset"), None, r"'preset' is a required property"),
    (lambda d: d.update(preset=3), None, r"preset: 3 is not of type 'string'"),
    (lambda d: d.update(preset="nsgt-foo"), None, r"preset: .*nsgt-foo"),
    (lambda d: d.update(instruments="Flute"), None, r"instruments: 'Flute' is not of type 'array'"),
    (lambda d: d.update(trained="last Tuesday"), None, r"trained: 'last Tuesday' does not match"),
    (lambda d: d.update(families=["woodwind"]), None, r"1 families for 5 instruments"),
    (None, lambda t: t["map.instrument"].view(-1).__setitem__(0, 9), r"map.instrument holds codes from 0 to 9"),
    (None, lambda t: t["map.split"].view(-1).__setitem__(0, -2), r"map.split holds codes from -2"),
    (None, _scaled("vae.dec_mu.weight", 1e30), r"vae.dec_mu.weight' holds values up to .*e\+29, beyond 10000"),
    (None, lambda t: t.update({"map.z": torch.zeros(len(t["map.z"]), 5)}), r"map.z is float32 \[\d+, 5\], expected"),
    (None, lambda t: t.update({"map.pitch": t["map.pitch"][:3]}), r"map.pitch is int64 \[3\]"),
    (None, lambda t: t.pop("map.descriptors"), r"no map of notes \(map.descriptors missing\)"),
])
def test_damaged_cards_are_one_sentence_naming_the_file(tiny_model, tmp_path, capsys, doc, tensors, phrase):
    from timbre_explorer.cli import main
    from timbre_explorer.core.synthesis.space import TimbreSpace

    damaged = tmp_path / "damaged.timbre.safetensors"
    damaged.write_bytes(tiny_model.read_bytes())
    rewrite_model(damaged, doc=doc, tensors=tensors)
    with pytest.raises(ModelFileError, match=phrase) as info:
        TimbreSpace.open(damaged)
    assert str(info.value).startswith(f"{damaged}: ")
    assert main(["render", "--model", str(damaged), "--point", "Flute", "--out", str(tmp_path / "x.wav")]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and str(damaged) in err
    assert not (tmp_path / "x.wav").exists()


def test_a_trained_models_card_says_when_it_was_trained(tiny_model):
    """``trained``, when the run finished (ISO 8601, UTC), is what the Explorer names an open model by
    (``gui/explorer/tab.py: model_title``)."""
    import datetime

    trained = datetime.datetime.fromisoformat(load_model(tiny_model, card=True).meta["trained"])
    assert trained.utcoffset() == datetime.timedelta(0)
    assert datetime.timedelta(0) <= datetime.datetime.now(datetime.UTC) - trained < datetime.timedelta(hours=6)
