"""pony: the built-in procedural audio-visual generator (no neural network) and its baselines."""

from generators.pony.baselines import BASELINE_PARAMS, BUILTIN_NAMES, build_builtin
from generators.pony.generator import Flaws, PonyGenerator

__all__ = ["BASELINE_PARAMS", "BUILTIN_NAMES", "Flaws", "PonyGenerator", "build_builtin"]
