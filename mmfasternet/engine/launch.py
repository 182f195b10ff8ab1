"""Distributed training on machines without CUDA.

mmengine 0.10.7's ``init_dist`` calls ``torch.cuda.set_device`` unconditionally and its
Runner wraps the model in DDP with ``device_ids=[LOCAL_RANK]``; both are fatal on CPU. On a
CPU-only machine we start the process group on gloo before the Runner (which then skips its
own ``init_dist``) and wrap the model in :class:`CPUDistributedDataParallel`, which runs DDP
without device ids and reverts SyncBN (CUDA only) to BN, as mmengine itself does for
single-process runs.
"""
from datetime import timedelta

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel, revert_sync_batchnorm
from mmengine.registry import MODEL_WRAPPERS
from torch.nn.modules.batchnorm import SyncBatchNorm

from mmfasternet.errors import MMFasterNetError


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` for processes that run on the CPU (gloo).

    SyncBN layers only run on CUDA, so they are reverted to BN first: each process then
    normalises with its own batch statistics, as a single-process run does.

    Args:
        module (nn.Module): The model to wrap.
        **kwargs: Passed to ``MMDistributedDataParallel``; ``device_ids`` must be None.
    """

    def __init__(self, module: torch.nn.Module, **kwargs) -> None:
        if any(isinstance(m, SyncBatchNorm) for m in module.modules()):
            print_log('The processes run on the CPU, where SyncBN cannot: all SyncBN layers '
                      'are reverted to BN (per-process batch statistics).', logger='current')
            module = revert_sync_batchnorm(module)
        super().__init__(module=module, **kwargs)


class LaunchError(MMFasterNetError, ValueError):
    """A launcher or model wrapper that cannot run on this machine."""


def setup_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Prepare ``cfg`` and the process group for CPU data parallelism.

    Does nothing when CUDA is available or ``launcher`` is ``'none'``.

    Args:
        cfg (Config): The config to adjust in place (``model_wrapper_cfg``, ``sync_bn``).
        launcher (str): The launcher the tool was started with.

    Returns:
        bool: Whether the CPU setup was applied.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher != 'pytorch':
        raise LaunchError(f'on a machine without CUDA only --launcher pytorch (torchrun) is '
                          f'supported, got --launcher {launcher}')
    wrapper = dict(type='MMDistributedDataParallel', broadcast_buffers=False)
    wrapper.update(cfg.get('model_wrapper_cfg') or {})
    if wrapper['type'] not in ('MMDistributedDataParallel', 'CPUDistributedDataParallel'):
        raise LaunchError(f'on a machine without CUDA the model is wrapped in '
                          f'CPUDistributedDataParallel; model_wrapper_cfg.type='
                          f'{wrapper["type"]!r} is not supported there')
    wrapper.update(type='CPUDistributedDataParallel', device_ids=None)
    cfg.model_wrapper_cfg = wrapper
    if cfg.get('sync_bn'):
        print_log(f'The processes run on the CPU, where SyncBN cannot: sync_bn='
                  f'{cfg.sync_bn!r} is ignored.', logger='current')
        cfg.sync_bn = None
    if not dist.is_initialized():
        timeout = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout')
        kwargs = {} if timeout is None else dict(timeout=timedelta(seconds=timeout))
        dist.init_process_group(backend='gloo', **kwargs)
    return True
