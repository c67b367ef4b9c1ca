"""cleancorpus: turn a folder of raw web documents into a clean, deduplicated, versioned corpus."""

__version__ = "0.1.0"

from .api import CleanResult, Repaired, clean, load, repair_text, revert  # noqa: E402
from .config import Config  # noqa: E402
from .document import Document, Edit, Outcome, Rejection, Status  # noqa: E402

__all__ = [
    "CleanResult", "Config", "Document", "Edit", "Outcome", "Rejection", "Repaired", "Status",
    "clean", "load", "repair_text", "revert", "__version__",
]
