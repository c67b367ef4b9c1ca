"""Per-document stages. Importing a stage module registers it; the import order below is the
default pipeline order."""

from .base import REGISTRY, ConfigError, Stage, build_options, register
from . import unicode  # noqa: F401  (registers "unicode")

__all__ = ["REGISTRY", "ConfigError", "Stage", "build_options", "register"]
