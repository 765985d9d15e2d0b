"""The benchmark's PDF section runs and reports its figures (their values are not judged here)."""

from tests.bench.run import bench_pdf


def test_the_pdf_benchmark_reports_ours_against_the_naive_render():
    results = bench_pdf(rounds=1)
    assert set(results) == {"pdf_pages", "pdf_ms", "pdf_naive_ms", "pdf_speedup_vs_naive"}
    assert results["pdf_pages"] >= 3  # a whole record: answers, risks, signature, audit trail
    assert results["pdf_ms"] > 0
    assert results["pdf_naive_ms"] > 0
    assert results["pdf_speedup_vs_naive"] > 0
