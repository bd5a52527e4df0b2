"""Question answering over Vietnamese news articles."""

from qa.types import Answer, Chunk, Citation, Document, Passage

__all__ = ["Answer", "Assistant", "Chunk", "Citation", "Document", "Passage", "Settings"]
__version__ = "0.1.0"


def __getattr__(name):  # keep `import qa` light: the heavy parts load on first use
    if name == "Assistant":
        from qa.assistant import Assistant

        return Assistant
    if name == "Settings":
        from qa.settings import Settings

        return Settings
    raise AttributeError(name)
