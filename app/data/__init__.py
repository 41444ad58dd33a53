"""Reference data shipped with the package (read with importlib.resources; see each ATTRIBUTION.md)."""
from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matching.scoring.jobtitles import JobTitleExpander, TitleVocabulary

TITLE_VOCABULARY = "jobtitles/vocabulary.csv"


def title_vocabulary_text() -> str:
    """The shipped job-title vocabulary (``jobtitles/vocabulary.csv``, see its ATTRIBUTION.md)."""
    return files(__name__).joinpath(TITLE_VOCABULARY).read_text(encoding="utf-8")


@cache
def title_vocabulary() -> TitleVocabulary:
    """The shipped job-title vocabulary, parsed once per process."""
    from matching.scoring.jobtitles import TitleVocabulary

    return TitleVocabulary.from_csv(title_vocabulary_text())


@cache
def job_title_expander() -> JobTitleExpander:
    """A ``JobTitleExpander`` on the shipped vocabulary (what the service and ``chanjiao rank`` use)."""
    from matching.scoring.jobtitles import JobTitleExpander

    return JobTitleExpander(title_vocabulary())
