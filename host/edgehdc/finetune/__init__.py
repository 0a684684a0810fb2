"""Fine-tuning: the `Trainer`, composable strategies (`FinetuneConfig`), metrics, the strategy comparison.

`fit`/`evaluate` are the plain supervised loop and accuracy the demo uses.
"""

from edgehdc.finetune.config import STRATEGIES, FinetuneConfig
from edgehdc.finetune.train import evaluate, fit, to_nchw
from edgehdc.finetune.trainer import FeatureCache, FitResult, Trainer

__all__ = ["evaluate", "fit", "to_nchw", "FinetuneConfig", "STRATEGIES", "Trainer", "FitResult", "FeatureCache"]
