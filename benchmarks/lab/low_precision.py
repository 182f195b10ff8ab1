"""Latency and batch throughput in every runtime and precision deployment offers (ONNX
Runtime fp32 and int8, OpenVINO fp32, bf16 and int8), each model in each timed round-robin
with the others, their tables, and the machine record that every such figure carries: the
CPU and its int8/bf16 instructions.
"""
import copy
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch.nn as nn

from mmfasternet.deploy import RUNTIMES, cpu_name_and_flags, export_onnx, open_runtime
from mmfasternet.deploy.quantization import quantize_model
from .latency import interleaved_latency_ms
from .report import markdown_table

# (runtime, precision) of every benchmark row; int8 runs the model quantised for the runtime.
RUNTIME_PRECISIONS = tuple((runtime.name, precision) for runtime in RUNTIMES.values()
                           for precision in (*runtime.precisions, 'int8'))

Feeds = Dict[str, np.ndarray]

# How each runtime call is settled at the start of its turn in a round-robin (see
# round_robin_seconds): untimed runs at batch 1, where a model of a few ms is otherwise
# timed cold, and seconds of untimed runs at least at any batch, since ONNX Runtime's idle
# threads spin on after a run of another session.
SETTLE_RUNS, SETTLE_S = 2, 0.05


def runnable_rows() -> List[Tuple[str, str]]:
    """:data:`RUNTIME_PRECISIONS` less a precision the runtime would run in fp32 on this CPU
    (OpenVINO's bf16 without bf16 instructions: ``Runtime.fast_on``); int8 is a file of its
    own and runs on any CPU."""
    return [(runtime, precision) for runtime, precision in RUNTIME_PRECISIONS
            if precision == 'int8' or RUNTIMES[runtime].runs_fast(precision)]


def quantized_copies(fp32_file: str, feeds: Sequence[Feeds]) -> Dict[str, str]:
    """Quantise ``fp32_file`` on ``feeds`` for each runtime, beside it
    (``<name>_int8.onnx``, ``<name>_int8.xml``); the int8 model of each runtime."""
    models = {}
    for runtime in RUNTIMES.values():
        models[runtime.name] = f'{osp.splitext(fp32_file)[0]}_int8{runtime.int8_suffix}'
        quantize_model(fp32_file, models[runtime.name], feeds, runtime.name)
    return models


def random_images(count: int, shape: Sequence[int], seed: int = 0) -> List[Feeds]:
    """``count`` feeds of one standard-normal ``image`` of ``shape`` each, from ``seed``:
    the calibration data of every benchmark (its models have random weights too)."""
    rng = np.random.default_rng(seed)
    return [dict(image=rng.standard_normal(tuple(shape), np.float32)) for _ in range(count)]


def deployed_files(model: nn.Module, path: str, shape: Sequence[int] = (1, 3, 224, 224),
                   calibration: Optional[Sequence[Feeds]] = None
                   ) -> Tuple[str, Dict[str, str]]:
    """A model as it is deployed: BN folded and exported to ``path`` (fp32 ONNX, inputs of
    ``shape``, a dynamic batch axis), and quantised for each runtime
    (:func:`quantized_copies`) on ``calibration`` (8 :func:`random_images` by default).

    Returns:
        tuple: The fp32 file and each runtime's int8 file.
    """
    export_onnx(copy.deepcopy(model), path, tuple(shape))
    return path, quantized_copies(path, calibration or random_images(8, shape))


def row_file(fp32_file: str, int8_models: Dict[str, str], runtime: str,
             precision: str) -> Tuple[str, str]:
    """The file a ``(runtime, precision)`` row of :data:`RUNTIME_PRECISIONS` runs, and the
    precision the runtime runs it at: int8 is the runtime's quantised file, run as it is."""
    if precision == 'int8':
        return int8_models[runtime], 'fp32'
    return fp32_file, precision


def runtime_calls(name: str, fp32_file: str, int8_models: Dict[str, str], feeds: Feeds,
                  threads: int, rows: Sequence[Tuple[str, str]]
                  ) -> Dict[tuple, Tuple[Callable, Feeds]]:
    """One call per ``(runtime, precision)`` of ``rows`` for a model, keyed
    ``(name, runtime, precision)``, for :func:`~.latency.interleaved_latency_ms`."""
    calls = {}
    for runtime, precision in rows:
        path, runs_at = row_file(fp32_file, int8_models, runtime, precision)
        model = open_runtime(path, runtime, runs_at, threads,
                             {name: feed.shape for name, feed in feeds.items()})
        calls[name, runtime, precision] = model.run, feeds
    return calls


def batch_calls(files: Dict[str, Tuple[str, Dict[str, str]]], feeds: Feeds, threads: int,
                rows: Sequence[Tuple[str, str]]) -> Dict[tuple, Tuple[Callable, Feeds]]:
    """:func:`runtime_calls` of every model of ``files`` (name to its fp32 file and int8
    models) on ``feeds``, a batch, keyed ``(name, runtime, precision, batch, threads)``: the
    calls of throughput rows, for :func:`~.latency.interleaved_latency_ms`."""
    batch = len(next(iter(feeds.values())))
    calls = {}
    for name, (fp32_file, int8_models) in files.items():
        for key, call in runtime_calls(name, fp32_file, int8_models, feeds, threads,
                                       rows).items():
            calls[(*key, batch, threads)] = call
    return calls


def settled_latency_ms(calls: Dict[tuple, Tuple[Callable, Feeds]], rounds: int,
                       batch: int = 1) -> Dict[tuple, float]:
    """Median ms of each call (:func:`runtime_calls`, :func:`batch_calls`), every call in
    one round-robin and warm at the start of its turn: at batch 1 :data:`SETTLE_RUNS` runs
    and :data:`SETTLE_S` of them at least; a batch (0.1 to several s a run) after one
    warm-up, :data:`SETTLE_S` of untimed runs at least."""
    if batch == 1:
        return interleaved_latency_ms(calls, rounds=rounds, per_round=1, settle=SETTLE_RUNS,
                                      settle_s=SETTLE_S)
    return interleaved_latency_ms(calls, rounds=rounds, per_round=1, warmup=1,
                                  settle_s=SETTLE_S)


def images_per_s(batch: int, ms: float) -> float:
    """Throughput of one batch of ``batch`` images in ``ms``."""
    return batch / ms * 1e3


def ratio_table(latency: Dict[tuple, float], names: Sequence[str],
                pairs: Sequence[Tuple[str, str]], rows: Sequence[Tuple[str, str]]) -> List[str]:
    """One line per ``(runtime, precision)`` of ``rows``: each model's median ms (``latency``
    keyed ``(name, runtime, precision)``) and each pair's ratio of them."""
    cells = []
    for runtime, precision in rows:
        ms = {name: latency[name, runtime, precision] for name in names}
        cells.append([runtime, precision, *(f'{ms[n]:.2f}' for n in names),
                      *(f'{ms[a] / ms[b]:.2f}' for a, b in pairs)])
    return markdown_table(['runtime', 'precision', *names, *(f'{a} / {b}' for a, b in pairs)],
                          cells)


def throughput_table(throughput: Dict[tuple, float], names: Sequence[str],
                     pairs: Sequence[Tuple[str, str]], rows: Sequence[Tuple[str, str]],
                     thread_counts: Sequence[int]) -> List[str]:
    """One line per ``(runtime, precision, threads)``: each model's images/s at the batch of
    ``throughput`` (the median ms of one batch, keyed as :func:`batch_calls`) and each
    pair's ratio of images/s, above 1 where the first of the pair is faster."""
    batch = next(iter(throughput))[3]
    cells = []
    for runtime, precision in rows:
        for threads in thread_counts:
            rate = {name: images_per_s(batch, throughput[name, runtime, precision, batch,
                                                         threads]) for name in names}
            cells.append([runtime, precision, threads, *(f'{rate[n]:.1f}' for n in names),
                          *(f'{rate[a] / rate[b]:.2f}' for a, b in pairs)])
    return markdown_table(['runtime', 'precision', 'threads', *names,
                           *(f'{a} / {b}' for a, b in pairs)], cells)


def benchmark_record(latency: Dict[tuple, float], threads: int,
                     throughput: Optional[Dict[tuple, float]] = None) -> dict:
    """The JSON record of a run: ``cpu``, ``flags`` and one row per timed call.

    Args:
        latency (dict): ``(model, runtime, precision)`` to the median ms of one image (batch
            1) on ``threads`` threads: rows ``{model, runtime, precision, batch, threads,
            median_ms}``.
        threads (int): The threads of the latency rows.
        throughput (dict, optional): ``(model, runtime, precision, batch, threads)`` (the
            keys of :func:`batch_calls`) to the median ms of one batch: rows with
            ``images_per_s`` as well.
    """
    cpu, flags = cpu_name_and_flags()
    rows = [dict(model=model, runtime=runtime, precision=precision, batch=1, threads=threads,
                 median_ms=round(ms, 3)) for (model, runtime, precision), ms in latency.items()]
    rows += [dict(model=model, runtime=runtime, precision=precision, batch=batch,
                  threads=batch_threads, median_ms=round(ms, 3),
                  images_per_s=round(images_per_s(batch, ms), 2))
             for (model, runtime, precision, batch, batch_threads), ms
             in (throughput or {}).items()]
    return dict(cpu=cpu, flags=flags, rows=rows)


def profile_row(fp32_file: str, int8_models: Dict[str, str], runtime: str, precision: str,
                feeds: Feeds, runs: int, threads: int = 1) -> Dict[str, Tuple[float, float]]:
    """The per-operator profile (ms and G multiply-adds per run, by kind) of one model in one
    ``(runtime, precision)`` of :data:`RUNTIME_PRECISIONS`, as it is benchmarked."""
    path, runs_at = row_file(fp32_file, int8_models, runtime, precision)
    return RUNTIMES[runtime].profile(path, feeds, runs, threads, runs_at)
