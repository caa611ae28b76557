"""PaDiM: a Gaussian of patch features per position, scored by Mahalanobis distance."""

from inference.ml.algorithms.padim.model import Padim, PadimParams

__all__ = ["Padim", "PadimParams"]
