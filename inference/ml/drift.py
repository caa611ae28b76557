"""Whether recent scores still come from the distribution a model was validated on: the two-sample
Kolmogorov–Smirnov statistic and its critical value."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike


def ks_statistic(sample: ArrayLike, reference: ArrayLike) -> float:
    """The largest distance between the two samples' empirical distribution functions, in [0, 1].

    Raises:
        ValueError: either sample is empty.
    """
    a = np.sort(np.asarray(sample, np.float64).ravel())
    b = np.sort(np.asarray(reference, np.float64).ravel())
    if not len(a) or not len(b):
        raise ValueError("the KS statistic needs two non-empty samples")
    values = np.concatenate([a, b])
    below_a = np.searchsorted(a, values, side="right") / len(a)
    below_b = np.searchsorted(b, values, side="right") / len(b)
    return float(np.abs(below_a - below_b).max())


def ks_critical(n: int, m: int, alpha: float) -> float:
    """The statistic above which samples of sizes ``n`` and ``m`` differ at significance ``alpha``
    (the asymptotic bound ``c(alpha) sqrt((n + m) / (n m))``, ``c(alpha) = sqrt(-ln(alpha / 2) / 2)``).

    Raises:
        ValueError: a size below 1 or ``alpha`` outside (0, 1).
    """
    if n < 1 or m < 1:
        raise ValueError(f"sample sizes must be at least 1, got {n} and {m}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    return math.sqrt(-math.log(alpha / 2) / 2) * math.sqrt((n + m) / (n * m))


def proportion_upper(successes: int, trials: int, z: float) -> float:
    """The Wilson score interval's upper end for a proportion seen as ``successes`` of ``trials``, at
    ``z`` standard scores: how high the true rate may be, honest about small samples.

    Raises:
        ValueError: no trials, or successes outside [0, trials].
    """
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials >= 1, got {successes} of {trials}")
    p = successes / trials
    centre = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return min(1.0, (centre + spread) / (1 + z * z / trials))
