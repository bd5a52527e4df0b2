"""Errors whose messages tell the user what to do next.

Only `qa/cli.py` and `app.py` turn these into messages for people; everything else lets them
propagate.
"""


class QAError(Exception):
    """Base class for every error the assistant raises on purpose."""


class CorpusError(QAError):
    """The corpus path is missing, empty or unreadable."""


class IndexMissingError(QAError):
    """No index where one was expected."""


class IndexMismatchError(QAError):
    """The index on disk was built with another model or other settings."""


class IndexCorruptError(QAError):
    """An index file is truncated or unreadable."""


class ModelLoadError(QAError):
    """The embedding or reader model could not be loaded offline."""


class BadQuestionError(QAError):
    """The question is empty, too long or has nothing to search for."""
