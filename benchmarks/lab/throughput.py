"""GPU throughput of FasterNet and its peers, measured the paper's way, in every precision.

The protocol of the paper (Sec. 4): throughput at batch 32, 224x224 input, BN folded into the
convs. Here each model is also run in fp16 and bf16 autocast and in the channels_last memory
format; after warm-up runs, models are timed round-robin (one run of each in turn, CUDA events
on the GPU, ``time.perf_counter`` on the CPU), so ratios between them are side by side, and
the median run gives images per second.
"""
import copy
import statistics
from contextlib import nullcontext
from typing import Callable, ContextManager, Dict, Hashable, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfasternet.compat import torch_at_least
from mmfasternet.deploy import switch_to_deploy
from .latency import round_robin_seconds, wall_seconds

PRECISIONS = ('fp32', 'fp16', 'bf16')

# Input (height, width) of the detection comparison: Mask R-CNN 1x on COCO (paper Tab. 4).
DETECTION_SHAPE = (800, 1333)

Device = Union[str, torch.device]
Calls = Dict[Hashable, Tuple[Callable, torch.Tensor]]


def autocast_context(precision: str, device: Device) -> ContextManager:
    """The autocast context that runs a model in ``precision`` on ``device``.

    Args:
        precision (str): One of :data:`PRECISIONS`; ``'fp32'`` runs without autocast.
        device (str | torch.device): A CPU or CUDA device.

    Returns:
        ContextManager: A fresh context, to enter once.
    """
    device = torch.device(device)
    if precision not in PRECISIONS:
        raise ValueError(f'precision must be one of {list(PRECISIONS)}, got {precision!r}')
    if device.type not in ('cpu', 'cuda'):
        raise ValueError(f'throughput is measured on cpu or cuda, got device {device}')
    if precision == 'fp32':
        return nullcontext()
    if precision == 'fp16' and device.type != 'cuda':
        raise ValueError('fp16 autocast needs a CUDA device; on the CPU measure bf16 (or '
                         'fp32) instead, or run on a GPU with --device cuda')
    dtype = torch.float16 if precision == 'fp16' else torch.bfloat16
    return torch.autocast(device.type, dtype=dtype)


def in_precision(fn: Callable, precision: str, device: Device) -> Callable:
    """``fn`` with every call run in :func:`autocast_context`; a precision that ``device``
    cannot run raises now, not at the first call.

    Args:
        fn (Callable): A one-input callable, such as a model.
        precision (str): One of :data:`PRECISIONS`.
        device (str | torch.device): The device ``fn`` runs on.

    Returns:
        Callable: The wrapped ``fn``.
    """
    autocast_context(precision, device)

    def run(x):
        with autocast_context(precision, device):
            return fn(x)

    return run


def prepare(model: nn.Module, x: torch.Tensor, device: Device,
            channels_last: bool = False) -> Tuple[nn.Module, torch.Tensor]:
    """A BN-folded copy of ``model`` on ``device``, and ``x`` to run it with.

    Args:
        model (nn.Module): A one-input model (see
            :class:`~mmfasternet.analysis.TensorForward`), BN not folded; it is copied, not
            changed.
        x (torch.Tensor): The input.
        device (str | torch.device): Where the copy and the input go.
        channels_last (bool): Put the copy and the input in the channels_last memory
            format. Defaults to False.

    Returns:
        tuple: The eval-mode folded copy and the input, both on ``device`` and in the
        memory format.
    """
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    folded = switch_to_deploy(copy.deepcopy(model))
    return (folded.to(device, memory_format=memory_format),
            x.to(device, memory_format=memory_format))


def cuda_seconds(fn: Callable, x: torch.Tensor) -> float:
    """Seconds that one ``fn(x)`` takes on the GPU, between two CUDA events."""
    start, end = (torch.cuda.Event(enable_timing=True) for _ in range(2))
    start.record()
    fn(x)
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1e3


def interleaved_throughput(calls: Calls, batch: int, rounds: int = 20, warmup: int = 5,
                           device: Device = 'cuda',
                           grad: bool = False) -> Dict[Hashable, float]:
    """Images per second of each ``fn(x)``, timed round-robin.

    Every call first runs ``warmup`` times (cuDNN autotuning, allocator, caches); then each
    of ``rounds`` rounds runs every call once in turn (see
    :func:`.latency.round_robin_seconds`). The median run of each call gives its rate.

    Args:
        calls (dict): Maps a name (any hashable) to a callable and its input.
        batch (int): Images per call.
        rounds (int): Timed runs per call. Defaults to 20.
        warmup (int): Untimed runs per call first. Defaults to 5.
        device (str | torch.device): Where the calls run: CUDA calls are timed with CUDA
            events, CPU calls with ``time.perf_counter``. Defaults to ``'cuda'``.
        grad (bool): Run with autograd on, for training steps; otherwise everything runs
            in ``torch.inference_mode``. Defaults to False.

    Returns:
        dict: Images per second of each name.
    """
    device = torch.device(device)
    on_cuda = device.type == 'cuda'
    grad_mode = torch.enable_grad() if grad else torch.inference_mode()
    with grad_mode, torch.cuda.device(device) if on_cuda else nullcontext():
        seconds = round_robin_seconds(calls, rounds, warmup=warmup,
                                      timer=cuda_seconds if on_cuda else wall_seconds)
    return {name: batch / statistics.median(values) for name, values in seconds.items()}


def _grad_scaler(precision: str, device: torch.device):
    """A gradient scaler for fp16 training (the only precision that needs one), else None."""
    if precision != 'fp16':
        return None
    if torch_at_least(2, 3):
        return torch.amp.GradScaler(device.type)
    return torch.cuda.amp.GradScaler()  # torch < 2.3 has no device-generic scaler


def train_step_call(model: nn.Module, batch: int, shape: Tuple[int, int], device: Device,
                    precision: str,
                    num_classes: int = 1000) -> Tuple[Callable, torch.Tensor]:
    """One training step of a classifier (forward, cross-entropy on random labels, backward,
    SGD update, with a gradient scaler in fp16) as a callable, and its input.

    Args:
        model (nn.Module): A classifier with a ``model(x, mode='tensor')`` forward that
            gives logits (an mmpretrain ``ImageClassifier``), BN not folded. It is moved to
            ``device``, put in train mode and trained.
        batch (int): Images per step.
        shape (tuple): Input height and width.
        device (str | torch.device): Where the step runs.
        precision (str): Autocast precision of the forward, one of :data:`PRECISIONS`.
        num_classes (int): Range of the random labels, the classifier's output size.
            Defaults to 1000.

    Returns:
        tuple: The step, taking a batch of images, and a batch to call it with.
    """
    device = torch.device(device)
    autocast_context(precision, device)  # an unsupported precision raises now
    model = model.to(device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    scaler = _grad_scaler(precision, device)
    labels = torch.randint(num_classes, (batch, ), device=device)

    def step(x: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast_context(precision, device):
            logits = model(x, mode='tensor')
        loss = F.cross_entropy(logits.float(), labels)
        if scaler is None:
            loss.backward()
            optimizer.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()

    return step, torch.randn(batch, 3, *shape, device=device)


def train_step_rates(models: Dict[Hashable, nn.Module], batch: int, shape: Tuple[int, int],
                     device: Device, precision: str, steps: int = 20,
                     warmup: int = 5) -> Dict[Hashable, float]:
    """Training images per second of each classifier, its steps timed round-robin.

    Args:
        models (dict): Maps a name to a classifier (see :func:`train_step_call`); each is
            moved to ``device`` and trained.
        batch (int): Images per step.
        shape (tuple): Input height and width.
        device (str | torch.device): Where the steps run.
        precision (str): Autocast precision, one of :data:`PRECISIONS`.
        steps (int): Timed steps per model. Defaults to 20.
        warmup (int): Untimed steps per model first. Defaults to 5.

    Returns:
        dict: Training images per second of each name.
    """
    calls = {name: train_step_call(model, batch, shape, device, precision)
             for name, model in models.items()}
    return interleaved_throughput(calls, batch, steps, warmup, device, grad=True)


def backbone_pair() -> Dict[str, nn.Module]:
    """The backbones of the paper's detection comparison (Tab. 4), in eval mode, BN not
    folded: FasterNet-S of this package and mmpretrain's ResNet-50, both with their four
    stage outputs, as Mask R-CNN's FPN takes them.

    Returns:
        dict: ``'FasterNet-S'`` and ``'ResNet-50'``.
    """
    from mmpretrain.models import ResNet

    from mmfasternet.models import FasterNet
    backbones = {'FasterNet-S': FasterNet('s', out_indices=(0, 1, 2, 3)),
                 'ResNet-50': ResNet(depth=50, out_indices=(0, 1, 2, 3))}
    for backbone in backbones.values():
        backbone.eval()  # mmpretrain's ResNet.train returns None: no chaining
    return backbones
