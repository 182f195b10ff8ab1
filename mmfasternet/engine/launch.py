"""Distributed training on machines without CUDA.

mmengine 0.10.7's ``init_dist`` calls ``torch.cuda.set_device`` unconditionally and its
Runner wraps the model in DDP with ``device_ids=[LOCAL_RANK]``; both are fatal on CPU. On a
CPU-only machine we start the process group on gloo before the Runner (which then skips its
own ``init_dist``) and let DDP run without device ids.
"""
from datetime import timedelta

import torch
import torch.distributed as dist
from mmengine.config import Config


def setup_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Prepare ``cfg`` and the process group for CPU data parallelism.

    Does nothing when CUDA is available or ``launcher`` is ``'none'``.

    Args:
        cfg (Config): The config to adjust in place (``model_wrapper_cfg``).
        launcher (str): The launcher the tool was started with.

    Returns:
        bool: Whether the CPU setup was applied.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher != 'pytorch':
        raise ValueError(f'on a machine without CUDA only --launcher pytorch (torchrun) is '
                         f'supported, got --launcher {launcher}')
    if not dist.is_initialized():
        timeout = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout')
        kwargs = {} if timeout is None else dict(timeout=timedelta(seconds=timeout))
        dist.init_process_group(backend='gloo', **kwargs)
    wrapper = dict(type='MMDistributedDataParallel', broadcast_buffers=False)
    wrapper.update(cfg.get('model_wrapper_cfg') or {})
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    return True
