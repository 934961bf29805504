"""support_rules.masking on the corpus in masking_corpus/ (written apart from
the code): every secret of every line with secrets is gone, every line
without secrets is left exactly as it was. ``make masking-report`` prints
the two rates and the time per line (bench/masking.py)."""

from __future__ import annotations

import pytest

from bench.masking import CorpusLine, leaks, load
from support_rules.masking import mask_secrets

WITH_SECRETS = load("with_secrets.yml")
WITHOUT_SECRETS = load("without_secrets.yml")


def test_the_corpus_is_large_enough_and_in_both_languages() -> None:
    for lines in (WITH_SECRETS, WITHOUT_SECRETS):
        assert len(lines) >= 200
        assert {line.language for line in lines} >= {"tr", "en"}
    assert all(line.secrets for line in WITH_SECRETS)
    assert not any(line.secrets for line in WITHOUT_SECRETS)


@pytest.mark.parametrize("line", WITH_SECRETS, ids=lambda line: line.text[:40])
def test_every_secret_is_masked(line: CorpusLine) -> None:
    assert leaks(line) == [], mask_secrets(line.text)


@pytest.mark.parametrize("line", WITHOUT_SECRETS, ids=lambda line: line.text[:40])
def test_every_clean_line_is_untouched(line: CorpusLine) -> None:
    assert mask_secrets(line.text) == line.text


@pytest.mark.parametrize("line", WITH_SECRETS + WITHOUT_SECRETS, ids=lambda line: line.text[:40])
def test_masking_a_masked_line_again_changes_nothing(line: CorpusLine) -> None:
    """The bot masks, then the service masks again on store and on show."""
    once = mask_secrets(line.text)
    assert mask_secrets(once) == once
