"""The peer suite (published timbre-dissimilarity studies) on a fake suite the tests write: two tiny studies of
synthetic sounds with known matrices, so the row-wise Spearman of a known embedding is known."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.synthesis import peersuite
from timbre_explorer.core.synthesis.peersuite import euclidean, read_suite, row_spearman, score

SR = 22050
# each study's stimuli, with a 1-D position each; files are written out of name order
STUDIES = {"Alpha2001": {"d.wav": 0.0, "b.aiff": 1.0, "a.wav": 3.5, "c.wav": 6.0},
           "Beta1999_set1": {"tone2.wav": 2.0, "tone1.wav": 0.5, "tone3.wav": -1.0, "tone4.wav": 4.0,
                             "tone0.wav": 9.0}}


def tone(seed: int) -> np.ndarray:
    """0.4 s of a harmonic tone, its brightness and pitch set by ``seed``, with a short attack and decay."""
    t = np.arange(int(0.4 * SR)) / SR
    f0 = 220.0 * 2 ** (seed / 12)
    x = sum(np.sin(2 * np.pi * k * f0 * t) / k ** (0.5 + 0.4 * seed) for k in range(1, 12))
    env = np.minimum(1, t / 0.02) * np.exp(-2 * t)
    return (0.3 * x * env / np.max(np.abs(x))).astype(np.float32)


def sorted_points(study: str) -> np.ndarray:
    return np.array([STUDIES[study][name] for name in sorted(STUDIES[study])])


def write_suite(root, *, reversed_study: str | None = None, lower: bool = False):
    """The repository's layout under ``root``: each matrix the stimuli's 1-D distances (rows in file-name order,
    upper triangle), or for ``reversed_study`` their opposite order."""
    for k, (study, stimuli) in enumerate(STUDIES.items()):
        (root / "sounds" / study).mkdir(parents=True)
        for j, name in enumerate(stimuli):
            sf.write(root / "sounds" / study / name, tone(3 * k + j), SR)
        d = euclidean(sorted_points(study)[:, None])
        if study == reversed_study:
            d = 20.0 - d
        m = d.T if lower else d
        (root / "true_dissim").mkdir(exist_ok=True)
        np.savetxt(root / "true_dissim" / f"{study}_dissimilarity_matrix.txt", np.tril(m, -1) if lower else np.triu(m, 1))
    return root


def by_position(study) -> np.ndarray:
    """An embedding that places each stimulus at its known 1-D position, found by its file name."""
    return euclidean(np.array([[STUDIES[study.name][f.name]] for f in study.files]))


def test_reads_each_study_with_its_sounds_in_name_order(tmp_path):
    studies = read_suite(write_suite(tmp_path))
    assert [s.name for s in studies] == ["Alpha2001", "Beta1999_set1"]
    assert [f.name for f in studies[0].files] == ["a.wav", "b.aiff", "c.wav", "d.wav"]
    np.testing.assert_allclose(studies[1].dissimilarity, euclidean(sorted_points("Beta1999_set1")[:, None]))


def test_an_embedding_ordered_as_the_ratings_scores_1_and_one_reversed_minus_1(tmp_path):
    result = score(read_suite(write_suite(tmp_path, reversed_study="Beta1999_set1")), {"known": by_position})
    assert [s.scores["known"] for s in result.studies] == pytest.approx([1.0, -1.0])
    assert result.overall["known"] == pytest.approx((4 * 1.0 + 5 * -1.0) / 9)  # each stimulus weighs the same


def test_a_lower_triangular_matrix_reads_as_the_upper_one(tmp_path):
    result = score(read_suite(write_suite(tmp_path, lower=True)), {"known": by_position})
    assert result.overall["known"] == pytest.approx(1.0)


def test_row_spearman_of_one_swap():
    t = euclidean(np.arange(5.0)[:, None])
    d = t.copy()
    d[0, [3, 4]] = d[[3, 4], 0] = d[0, [4, 3]]  # the first stimulus's two farthest swapped
    rho = row_spearman(d, t)
    assert rho[0] == pytest.approx(1 - 6 * 2 / (4 * (16 - 1)))  # one adjacent swap among 4: 0.8
    assert rho[1:3] == pytest.approx([1.0, 1.0])  # rows without a swapped entry (ties share their rank)


def test_row_spearman_of_a_constant_row_is_zero():
    t = euclidean(np.arange(5.0)[:, None])
    flat = np.ones((5, 5)) - np.eye(5)
    np.testing.assert_array_equal(row_spearman(flat, t), np.zeros(5))  # no order to agree with


@pytest.mark.parametrize("break_it, says", [
    (lambda r: (r / "sounds" / "Alpha2001" / "a.wav").unlink(), "a 4 x 4 matrix for 3 sounds"),
    (lambda r: (r / "true_dissim" / "Alpha2001_dissimilarity_matrix.txt").write_text("0 1 2\n0 0 x\n0 0 0\n"),
     "not a matrix of numbers"),
    (lambda r: (r / "true_dissim" / "Alpha2001_dissimilarity_matrix.txt").write_text("0 1 2 3\n0 0 1 2\n"),
     "not square"),
    (lambda r: (r / "true_dissim" / "Alpha2001_dissimilarity_matrix.txt").write_text("0 1 2 3\n" * 4),
     None),  # a full matrix with its upper triangle is read (no error)
    (lambda r: (r / "true_dissim" / "Alpha2001_dissimilarity_matrix.txt").write_text("0 0 0 0\n" * 4),
     "every dissimilarity is zero"),
    (lambda r: (r / "true_dissim" / "Alpha2001_dissimilarity_matrix.txt").write_text(
        "0 1 2 nan\n0 0 1 2\n0 0 0 1\n0 0 0 0\n"), "not a finite number"),
])
def test_a_matrix_that_does_not_fit_its_sounds_is_one_sentence_naming_the_file(tmp_path, break_it, says):
    root = write_suite(tmp_path)
    break_it(root)
    if says is None:
        assert len(read_suite(root)) == 2
        return
    with pytest.raises(ParameterError) as err:
        read_suite(root)
    assert "Alpha2001_dissimilarity_matrix.txt" in str(err.value) and says in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_folders_are_named(tmp_path):
    with pytest.raises(ParameterError, match="nowhere: no such folder"):
        read_suite(tmp_path / "nowhere")
    with pytest.raises(ParameterError, match="not a peer suite"):
        read_suite(tmp_path)
    root = write_suite(tmp_path / "clone" / "timbremetrics")
    assert len(read_suite(tmp_path / "clone")) == 2  # a clone of the repository is found at its timbremetrics/
    for f in (root / "sounds" / "Beta1999_set1").iterdir():
        f.unlink()
    (root / "sounds" / "Beta1999_set1").rmdir()
    with pytest.raises(ParameterError, match=r"Beta1999_set1: no such folder \(the sounds of Beta1999_set1_dis"):
        read_suite(root)


def test_mfcc_of_a_sound_padded_with_silence_keeps_its_own_frames():
    """The paper's MFCC baseline pads the shorter sound of a pair: the frames away from the padding stay."""
    filters = peersuite.MfccCache()._filters()
    x = np.concatenate([tone(0), tone(3)]).astype(np.float32)
    a, b = peersuite.mfcc(x, filters), peersuite.mfcc(np.pad(x, (0, 44100)), filters)
    assert a.shape[0] == 40 and b.shape[1] > a.shape[1]
    np.testing.assert_allclose(a[:, 2:-4], b[:, 2:a.shape[1] - 4], atol=1e-3)


def test_evaluate_peer_suite_prints_the_table(tiny_model, tmp_path, capsys):
    from timbre_explorer.cli import main

    root = write_suite(tmp_path / "suite")
    assert main(["evaluate", str(tiny_model), "--peer-suite", str(root), "--json", str(tmp_path / "p.json")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Peer suite: 2 studies, 9 stimuli")
    assert "the model's z" in out[1] and "log-spectrum" in out[1] and "MFCC" in out[1]
    rows = {line[:34].strip(): [float(v) for v in line[34:].split()] for line in out[2:5]}
    assert set(rows) == {"all stimuli", "Alpha2001 (4)", "Beta1999_set1 (5)"}
    assert all(len(v) == 3 and all(-1 <= x <= 1 for x in v) for v in rows.values())
    assert out[5].startswith("z beats the log-spectrum on ") and out[5].split()[6] == "of"
    figures = json.loads((tmp_path / "p.json").read_text())["peer_suite"]
    assert figures["overall"]["z"] == pytest.approx(rows["all stimuli"][0], abs=5e-4)
    assert [s["study"] for s in figures["studies"]] == ["Alpha2001", "Beta1999_set1"]


def test_evaluate_peer_suite_names_a_folder_that_is_not_one(tiny_model, tmp_path, capsys):
    from timbre_explorer.cli import main

    assert main(["evaluate", str(tiny_model), "--peer-suite", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (f"timbre-explorer evaluate: {tmp_path}: not a peer suite (it needs sounds/ and true_dissim/, "
                   "as in the timbremetrics repository's timbremetrics/ folder)")
