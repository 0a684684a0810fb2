"""Training and evaluation of registry models on a `Split`."""

from edgehdc.finetune.train import evaluate, fit, to_nchw

__all__ = ["evaluate", "fit", "to_nchw"]
