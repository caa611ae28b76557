"""PatchCore: nearest-neighbour search in a coreset of normal patch features."""

from inference.ml.algorithms.patchcore.model import PatchCore, PatchCoreParams

__all__ = ["PatchCore", "PatchCoreParams"]
