"""Fine-tuning a FasterNet model for other inputs than RGB from an RGB checkpoint."""
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mmfasternet.checkpoint import adapt_input_channels
from mmfasternet.models import FasterNet


class AdaptInputChannelsHook(Hook):
    """Adapt the RGB embedding filters of the ``load_from`` checkpoint to a model whose
    FasterNet takes other input channels, by the rule of
    :mod:`mmfasternet.checkpoint.input_channels`, and log it. The tools register it when
    they fine-tune (``load_from`` without resuming, whose weights must be the model's own).

    Args:
        load_from (str): The checkpoint, for the log.
    """

    priority = 'VERY_HIGH'

    def __init__(self, load_from: str):
        self.load_from = load_from

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not isinstance(getattr(model, 'backbone', None), FasterNet):
            return
        state = checkpoint.get('state_dict', checkpoint)
        adapted = adapt_input_channels(state, model.state_dict(), prefix='backbone.')
        if adapted:
            print_log(f'{self.load_from}: {adapted}', logger='current')
