"""bench/masking.py: the report counts what the corpus holds and prints both rates."""

from __future__ import annotations

import pytest

from bench import masking


def test_the_report_counts_the_corpus_and_prints_both_rates(
    capsys: pytest.CaptureFixture[str], tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(masking, "OUT", tmp_path / "masking.json")
    masking.main()
    out = capsys.readouterr().out
    figures = masking.report()
    assert figures["secret_lines"] == len(masking.load("with_secrets.yml"))
    assert figures["clean_lines"] == len(masking.load("without_secrets.yml"))
    assert f"({figures['secrets_masked']}/{figures['secrets']} in {figures['secret_lines']} lines)" in out
    assert "clean lines untouched" in out and (tmp_path / "masking.json").exists()
