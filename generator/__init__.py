"""respkit's generator: spec -> closure of /responses -> overlays -> models, client, bundle, manifest."""

from respkit.generator.config import Config, load_config
from respkit.generator.errors import SpecError
from respkit.generator.pipeline import Prepared, prepare, render

__all__ = ["Config", "Prepared", "SpecError", "load_config", "prepare", "render"]
