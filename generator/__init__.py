"""respkit's generator: spec -> closure of /responses -> overlays -> models, client, bundle, manifest."""

from generator.config import Config, load_config
from generator.errors import SpecError
from generator.pipeline import Prepared, prepare, render

__all__ = ["Config", "Prepared", "SpecError", "load_config", "prepare", "render"]
