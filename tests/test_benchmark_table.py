"""The README's benchmark table is one run's JSON, printed by ``benchmarks/table.py``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_table_says_each_figure_its_target_and_whether_the_run_met_it(tmp_path):
    run = tmp_path / "bench.json"
    run.write_text(json.dumps({"nsgt_speedup_x": 7.6, "path_30s_peak_gb": 0.46, "label_click_right_of_12": 12,
                               "key_ready_ms": float("nan")}))
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "table.py"), str(run)], capture_output=True,
                         text=True, check=True).stdout
    rows = {line.split("(`")[1].split("`)")[0]: line for line in out.splitlines()[2:]}
    assert rows["nsgt_speedup_x"].endswith("| 7.6× | ≥ 10.0×: not met |")
    assert rows["path_30s_peak_gb"].endswith("| 0.46 GB | ≤ 0.60 GB: met |")
    assert rows["label_click_right_of_12"].endswith("| 12 of 12 | ≥ 11 of 12: met |")
    assert rows["key_ready_ms"].endswith("| not measured in this run |  |")  # NaN: not a figure
    assert rows["peer_suite_score"].endswith("| not measured in this run |  |")  # skipped: absent
