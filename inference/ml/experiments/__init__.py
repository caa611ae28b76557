"""Experiment drivers over the learning core: benchmarks, few-label comparisons, the simulation."""
