"""The perceptual timbre space: rebuilding the paper's data, and researchers' own matrices."""

from __future__ import annotations

import json

import numpy as np
import pytest

from timbre_explorer.cli import main
from timbre_explorer.core.data.perception import (
    builtin_ratings_path,
    dissimilarities_from_ratings,
    load_dissimilarities,
    read_matrix,
    read_positions,
    timbre_space,
)
from timbre_explorer.core.errors import ParameterError
from timbre_explorer.paths import resources_dir

DATA = resources_dir() / "perceptual"


def test_pooled_ratings_rebuild_the_shared_matrix():
    d, std = dissimilarities_from_ratings(builtin_ratings_path())
    ref = read_matrix(DATA / "mean_dissimilarity.csv")
    assert d.instruments == ref.instruments and len(d.instruments) == 12
    np.testing.assert_allclose(d.matrix, ref.matrix, atol=1e-6)
    assert d.matrix[d.instruments.index("Cello"), d.instruments.index("Trombone")] == 1.0
    ref_std = np.loadtxt(DATA / "std_dissimilarity.csv", delimiter=",", skiprows=1, usecols=range(1, 13))
    np.testing.assert_allclose(std, ref_std, atol=1e-6)


def test_mds_matches_the_papers_space_and_reports_its_ceiling():
    d = load_dissimilarities()
    space3 = timbre_space(d, dims=3)
    names, pos = read_positions(DATA / "mds3_reference.csv")
    ref = np.sqrt(((pos[:, None] - pos[None]) ** 2).sum(-1))
    index = [d.instruments.index(n) for n in names]
    # MDS is defined up to rotation and reflection: compare distances
    np.testing.assert_allclose(space3.distances()[np.ix_(index, index)], ref, atol=0.01)
    assert space3.stress == pytest.approx(0.58, abs=0.01)
    assert space3.spearman_rho == pytest.approx(0.878, abs=0.005)
    assert timbre_space(d, dims=6).spearman_rho == pytest.approx(0.978, abs=0.005)


def test_the_mds_space_is_seeded():
    d = load_dissimilarities()
    np.testing.assert_array_equal(timbre_space(d, dims=3).positions, timbre_space(d, dims=3).positions)


def _write(path, text):
    path.write_text(text)
    return path


def test_users_matrix_any_scale(tmp_path):
    m = _write(tmp_path / "m.csv", ",Flute,Oboe,Tuba\nFlute,0,2,8\nOboe,2,0,6\nTuba,8,6,0\n")
    d = load_dissimilarities(m, labels=["Flute", "Oboe", "Tuba", "Harp"])
    assert d.instruments == ("Flute", "Oboe", "Tuba")
    np.testing.assert_allclose(d.matrix[0], [0, 0.25, 1.0])
    assert timbre_space(d, dims=2).spearman_rho == pytest.approx(1.0)


def test_users_pooled_ratings(tmp_path):
    rows = ["instrument_a,instrument_b,dissimilarity"]
    rows += ["Flute,Oboe,0.2", "Oboe,Flute,0.4", "Flute,Tuba,0.9", "Tuba,Oboe,0.6", "Flute,Flute,0.1"]
    d = load_dissimilarities(_write(tmp_path / "r.csv", "\n".join(rows) + "\n"))
    assert d.instruments == ("Flute", "Oboe", "Tuba")
    assert d.matrix[0, 1] == pytest.approx(0.3 / 0.9)


@pytest.mark.parametrize("text, message", [
    (",A,B\nA,0,1\nB,2,0\n", "not symmetric"),
    (",A,B\nA,0,-1\nB,-1,0\n", "non-negative"),
    (",A,B,C\nA,0,1,1\nB,1,0,1\n", "not square"),
    (",A,B\nB,0,1\nA,1,0\n", "differ from column names"),
    (",A,B\nA,1,1\nB,1,0\n", "diagonal"),
    (",A,B\nA,0,x\nB,1,0\n", "must be a number"),
    (",A,B\nA,0,nan\nB,nan,0\n", "NaN"),
    (",A,B,C\nA,0,0,1\nB,0,0,1\nC,1,1,0\n", "dissimilarity 0"),
    ("instrument_a,instrument_b,dissimilarity\nA,B,0.5\nA,C,0.5\n", "no ratings for 1 instrument pairs"),
    ("instrument_a,instrument_b,dissimilarity\nA,B,-3\n", "non-negative"),
])
def test_bad_matrices_are_refused_with_the_reason(tmp_path, text, message):
    with pytest.raises(ParameterError, match=message):
        load_dissimilarities(_write(tmp_path / "bad.csv", text))


def test_names_must_match_the_dataset(tmp_path):
    m = _write(tmp_path / "m.csv", ",Flute,Obo\nFlute,0,1\nObo,1,0\n")
    with pytest.raises(ParameterError, match=r"\['Obo'\] are not in the dataset"):
        load_dissimilarities(m, labels=["Flute", "Oboe"])
    with pytest.raises(ParameterError, match="cannot read"):
        load_dissimilarities(tmp_path / "missing.csv")


def test_cli_writes_the_report(tmp_path, capsys):
    assert main(["perception", "--out", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    assert "Spearman rho 0.978" in out
    figures = json.loads((tmp_path / "p" / "perception.json").read_text())
    assert figures["mds_dims"] == 6 and figures["mds3_vs_paper_max_distance_diff"] < 0.01
    assert figures["ceiling_by_dims"]["3"]["spearman_rho"] == pytest.approx(0.878, abs=0.005)
    assert read_matrix(tmp_path / "p" / "dissimilarity.csv").instruments[0] == "Clarinet"
    assert (tmp_path / "p" / "mds.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    names, pos = read_positions(tmp_path / "p" / "mds.csv")
    assert len(names) == 12 and pos.shape == (12, 6)


def test_cli_reports_bad_input_without_a_traceback(tmp_path, capsys):
    bad = _write(tmp_path / "bad.csv", ",A,B\nA,0,1\nB,2,0\n")
    assert main(["perception", "--out", str(tmp_path / "p"), "--ratings", str(bad)]) == 1
    assert "not symmetric" in capsys.readouterr().err
