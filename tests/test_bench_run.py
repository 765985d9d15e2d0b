"""The whole benchmark script runs in its small size and reports every figure.

Timings are not judged here (these machines are noisy; tests/bench/run.py compares them with
baselines itself); what is judged is that every section still runs against the real app, and
the figures that are facts rather than speeds: nothing lost, nothing fetched from outside.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Minutes, not seconds: `make test-bench`, which CI runs after `make test`.
pytestmark = pytest.mark.bench


ROOT = Path(__file__).resolve().parents[1]
# The goals, and the figures they are computed from.
KEYS = {
    "database", "pdf_pages", "pdf_ms", "pdf_naive_ms", "pdf_speedup_vs_naive",
    "hello_rps", "draft_read_rps", "step_rps", "draft_read_ratio_vs_hello",
    "step_throughput_ratio_vs_hello",
    "sign_p50_ms", "sign_p95_ms",
    "patient_page_kb", "heaviest_page", "external_requests",
    "journeys", "journeys_per_second", "step_pages_per_second", "step_page_p95_ms_under_load",
    "concurrency_errors", "lost_records", "rss_growth_mb",
    "scale_out_servers", "scale_out_journeys", "scale_out_journeys_per_second",
    "scale_out_errors", "scale_out_lost_records",
    "render_jobs", "render_1_worker_s", "render_2_workers_s", "render_workers_speedup",
    "pdfs_rendered_twice",
    "sign_to_pdf_tablets", "sign_to_pdf_signing_s", "sign_to_pdf_p50_s", "sign_to_pdf_p95_s",
    "copy_page_preparing_seen", "copy_page_errors",
    "human_pace_tablets", "human_pace_pages", "human_pace_step_p50_ms",
    "human_pace_step_p95_ms", "human_pace_errors",
    "search_records", "search_build_s", "search_1m_p50_ms", "search_1m_p95_ms",
    "search_slowest",
}


@pytest.mark.browser  # the page weights are measured in Chromium
def test_the_small_benchmark_runs_and_prints_every_figure_as_json():
    run = subprocess.run(
        [sys.executable, "tests/bench/run.py", "--small"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.strip().splitlines()
    assert lines[0].split() == ["measure", "value"]  # the table comes first
    results = json.loads(lines[-1])
    assert set(results) == KEYS
    assert results["pdf_pages"] >= 3  # a whole record: answers, risks, signature, audit trail
    assert results["journeys"] == 4 * 2
    assert results["concurrency_errors"] == 0
    assert results["lost_records"] == 0
    assert results["external_requests"] == 0
    assert results["search_records"] == 300
    assert results["database"] == "sqlite"
    # Several processes, one database: journeys alternating between two app servers, and
    # two render workers sharing one queue, nothing rendered twice.
    assert results["scale_out_journeys"] == 1 and results["scale_out_errors"] == 0
    assert results["scale_out_lost_records"] == 0
    assert results["pdfs_rendered_twice"] == 0
    # Each phone opened its copy page before the PDF existed, then got the PDF.
    assert results["copy_page_preparing_seen"] == results["sign_to_pdf_tablets"] == 2
    assert results["copy_page_errors"] == 0
    assert results["human_pace_errors"] == 0 and results["human_pace_pages"] > 0
    assert all(results[key] > 0 for key in ("pdf_ms", "pdf_naive_ms", "hello_rps", "step_rps",
                                            "draft_read_rps", "sign_p95_ms", "patient_page_kb",
                                            "step_page_p95_ms_under_load",
                                            "render_1_worker_s", "render_2_workers_s",
                                            "sign_to_pdf_p95_s", "human_pace_step_p95_ms"))
