"""Save the random-number states with each checkpoint, so that resuming is exact."""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook

from mmfasternet.registry import register_hook

STATE_KEY = 'random_states'


def capture_random_states() -> dict:
    """The states of Python's, NumPy's and torch's generators, as tensors and ints only,
    so that a checkpoint holding them still loads with ``weights_only=True``."""
    algorithm, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    states = dict(
        python=random.getstate(),
        numpy=dict(algorithm=algorithm, keys=torch.from_numpy(keys.astype(np.int64)),
                   pos=int(pos), has_gauss=int(has_gauss),
                   cached_gaussian=float(cached_gaussian)),
        torch=torch.get_rng_state())
    if torch.cuda.is_available():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def restore_random_states(states: dict) -> None:
    """Inverse of :func:`capture_random_states`."""
    random.setstate(states['python'])
    numpy_state = states['numpy']
    np.random.set_state((numpy_state['algorithm'],
                         numpy_state['keys'].numpy().astype(np.uint32), numpy_state['pos'],
                         numpy_state['has_gauss'], numpy_state['cached_gaussian']))
    torch.set_rng_state(states['torch'])
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states['cuda'])


@register_hook
class RandomStateHook(Hook):
    """Make a resumed run draw the same random numbers as an uninterrupted one.

    mmengine saves model, optimizer and scheduler states but not the generators. This hook
    snapshots them when a training epoch ends, writes the snapshot into every checkpoint and,
    at the start of the next epoch, sets the generators to it: in the uninterrupted run (so
    that validation in between draws nothing that training sees) and after a resume alike.
    On resume it also gives the training sampler the seed of the interrupted run, so that
    the shuffling is the same without a fixed ``randomness.seed``. Dataloader workers must
    not persist across epochs (``persistent_workers=False``), since a resumed run starts new
    ones.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._states: Optional[dict] = None

    def after_train_epoch(self, runner) -> None:
        self._states = capture_random_states()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self._states is not None:
            checkpoint[STATE_KEY] = self._states

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._states = checkpoint.get(STATE_KEY)
        # mmengine builds the training sampler with this run's seed, then takes the saved
        # seed on resume; without a fixed ``randomness.seed`` the two differ, and so would
        # the order of the remaining epochs.
        seed = checkpoint.get('meta', {}).get('seed')
        sampler = getattr(getattr(runner, '_train_loop', None), 'dataloader', None)
        sampler = getattr(sampler, 'sampler', None)
        if seed is not None and hasattr(sampler, 'seed'):
            sampler.seed = seed

    def before_train_epoch(self, runner) -> None:
        if self._states is not None:
            restore_random_states(self._states)
