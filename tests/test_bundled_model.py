"""The model that ships in models/default: it loads, it describes itself, its map and report are there."""

from __future__ import annotations

import json

import numpy as np
import torch

from timbre_explorer.core.training.evaluate import REPORT_KEYS
from timbre_explorer.core.data.instruments import INSTRUMENTS
from timbre_explorer.core.model.modelfile import load_model
from timbre_explorer.paths import default_model_path, models_dir


def test_the_default_model_loads_with_its_map_and_report():
    mf = load_model(default_model_path())
    assert mf.meta["preset"] == "nsgt-erb" and mf.config.n_bins == 168
    assert set(mf.meta["instruments"]) == {i.name for i in INSTRUMENTS}
    n = mf.tensors["map.z"].shape[0]
    assert n == mf.meta["dataset"]["notes"] > 3000
    assert mf.tensors["map.z"].shape[1] == mf.config.latent
    assert set(REPORT_KEYS) <= set(mf.meta["report"]) and "baseline" in mf.meta["report"]
    novel = mf.meta["splits"].index("novel")
    held = {mf.meta["instruments"][i] for i in mf.tensors["map.instrument"][mf.tensors["map.split"] == novel].tolist()}
    assert held == {i.name for i in INSTRUMENTS if i.novel}
    report = json.loads((models_dir() / "default" / "report.json").read_text())
    assert report["spearman_rho"] == mf.meta["report"]["spearman_rho"]
    # the targets: rho >= 0.9, clearly above the unregularized model, reconstruction comparable
    base = report["baseline"]
    assert report["spearman_rho"] >= 0.9 and report["spearman_rho"] > base["spearman_rho"] + 0.3
    assert report["test_mse"] <= 1.1 * base["test_mse"]
    # the stored map is the model's own encoding: decoding a note's position gives a finite spectrum
    model = mf.build_model()
    with torch.no_grad():
        x_mu, _ = model.decode(mf.tensors["map.z"][:8])
    assert torch.isfinite(mf.normalization.inverse(x_mu)).all()
    assert np.isfinite(mf.tensors["map.descriptors"].numpy()).all()
