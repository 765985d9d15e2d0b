"""The search benchmark still runs, on a few hundred records, and finds what it generated."""

import json

from consentapp.records.search import search_key

from .bench import search_bench


def test_the_search_benchmark_runs_and_its_figures_are_consistent(capsys):
    result = search_bench.main(["--records", "300", "--repeat", "2"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("300 records")
    assert json.loads(lines[-1]) == result
    assert result["requests"] == 2 * len(search_bench.SCENARIOS)
    assert 0 < result["p50_ms"] <= result["p95_ms"]

    people = search_bench.generate_people(300)
    scenarios = result["scenarios"]
    assert scenarios["newest first"]["found"] == 300
    expected = sum("nunez" in search_key(name) for name, _ in people)
    assert expected > 0
    assert scenarios["name, accented"]["found"] == expected
    assert scenarios["name, folded"]["found"] == expected
    assert scenarios["name, no match"]["found"] == 0
    born = sum(dob.isoformat() == "1971-04-09" for _, dob in people)
    assert scenarios["date of birth"]["found"] == born
