"""Per-document stages. Importing a stage module registers it (one import line per stage below);
the default order is config.DEFAULT_ORDER."""

from .base import REGISTRY, ConfigError, Stage, build_options, register
from . import unicode  # noqa: F401  (registers "unicode")
from . import boilerplate  # noqa: F401  (registers "boilerplate")
from . import language  # noqa: F401  (registers "language")
from . import pii  # noqa: F401  (registers "pii")
from . import spun  # noqa: F401  (registers "spun")
from . import spelling  # noqa: F401  (registers "spelling")
from . import quality  # noqa: F401  (registers "quality")

__all__ = ["REGISTRY", "ConfigError", "Stage", "build_options", "register"]
