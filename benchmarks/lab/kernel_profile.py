"""Where a model's time goes on its device, by kind of kernel: what explains a throughput gap
between FasterNet and a peer on the GPU.

``torch.profiler`` records the device time of every CUDA kernel (on the CPU: every
operator's own time) over a few runs; each is put in the first of :data:`KERNEL_KINDS`
whose name fragments its name contains: memory-format conversions (NCHW and NHWC),
concatenation and copies (PConv's split and concat), convolution and matrix kernels,
element-wise kernels, or the rest.
"""
from typing import Callable, Dict, List, Tuple

import torch
from torch.profiler import ProfilerActivity, profile

# (kind, lower-case name fragments), in the order a kernel is matched against them.
KERNEL_KINDS = (
    ('layout', ('nchwtonhwc', 'nhwctonchw', 'transpose', 'permute')),
    ('concat/copy', ('catarray', 'aten::cat', 'concat', 'copy', 'clone')),
    ('conv/matmul', ('conv', 'gemm', 'xmma', 'cutlass', 'winograd', 'aten::mm', 'addmm', 'bmm',
                     'matmul', 'linear')),
    ('element-wise', ('elementwise', 'vectorized', 'relu', 'gelu', 'add', 'mul')),
)
OTHER = 'other'


def kernel_kind(name: str) -> str:
    """The kind of a kernel or operator by its name: one of :data:`KERNEL_KINDS`' or
    :data:`OTHER`."""
    lower = name.lower()
    for kind, fragments in KERNEL_KINDS:
        if any(fragment in lower for fragment in fragments):
            return kind
    return OTHER


def kernel_profile(fn: Callable, x: torch.Tensor, runs: int = 5, top: int = 5) -> dict:
    """Profile ``fn(x)`` (after one untimed run) over ``runs`` runs on ``x``'s device.

    Returns:
        dict: ``ms`` (device time per run), ``kinds`` (share of that time per kind, in
        :data:`KERNEL_KINDS`' order, then :data:`OTHER`) and ``top`` (the ``top``
        longest kernels: name, ms per run, share).
    """
    cuda = x.device.type == 'cuda'
    fn(x)
    if cuda:
        torch.cuda.synchronize(x.device)
    with profile(activities=[ProfilerActivity.CUDA if cuda else ProfilerActivity.CPU]) as prof:
        for _ in range(runs):
            fn(x)
        if cuda:
            torch.cuda.synchronize(x.device)
    times: List[Tuple[str, float]] = []
    for event in prof.key_averages():
        if cuda:  # kernels; torch < 2.4 names the field after CUDA
            us = getattr(event, 'self_device_time_total', None)
            us = event.self_cuda_time_total if us is None else us
        else:  # operators, each without the operators it calls
            us = event.self_cpu_time_total
        if us > 0:
            times.append((event.key, us / 1e3 / runs))
    total = sum(ms for _, ms in times)
    if not total:
        raise RuntimeError(f'the profiler recorded no time on {x.device}')
    kinds: Dict[str, float] = {kind: 0.0 for kind, _ in KERNEL_KINDS}
    kinds[OTHER] = 0.0
    for name, ms in times:
        kinds[kernel_kind(name)] += ms / total
    times.sort(key=lambda item: -item[1])
    return dict(ms=total, kinds=kinds,
                top=[(name, ms, ms / total) for name, ms in times[:top]])
