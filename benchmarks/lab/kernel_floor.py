"""A model's kernel floor: its convs alone, each at its own shape, as chains of plain convs
with the same multiply-adds, in one ONNX file that the runtimes run and the quantisers
quantise like the model's own. The model's latency over its floor's says how much of its
time goes to what is not a conv kernel: reorders, splits and concatenations, residual adds,
quantise and dequantise steps, the calls between kernels.

The floor keeps the model's order of convs. Those that take the output of the conv before
them (FasterNet's embedding, block MLPs, merging layers and head) form the main chain, with
a ReLU between convs and a global average pool where the model pools; a conv that takes
another tensor (FasterNet's PConv 3x3, on a quarter of the channels) starts or continues a
side chain of its shape, fed by an input of its own. One call runs all chains.

``python -m benchmarks.kernel_floor`` deploys each model and its floor alike, times them side
by side in every runtime and precision and profiles both (:func:`deployed_with_floor`,
:func:`time_and_profile`, and the tables of ``kernel_floor.md``).
"""
import os.path as osp
from typing import Dict, List, NamedTuple, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

from mmfasternet.deploy import cpu_name_and_flags, switch_to_deploy
from mmfasternet.fileio import write_bytes_atomically
from .latency import build_classifier
from .low_precision import (SETTLE_RUNS, SETTLE_S, Feeds, deployed_files, profile_row,
                            quantized_copies, random_images, runtime_calls, settled_latency_ms)
from .report import markdown_table

SHAPE = (1, 3, 224, 224)
PROFILE_SHARE = 0.02  # profile rows below this share of both models' time are summed up
Row = Tuple[str, str]


class ConvShape(NamedTuple):
    """One conv (a ``Linear`` is a 1x1 conv) at the size a model runs it: input channels,
    output channels, kernel, stride, padding, groups, input height and width."""
    in_channels: int
    out_channels: int
    kernel: Tuple[int, int]
    stride: Tuple[int, int]
    padding: Tuple[int, int]
    groups: int
    height: int
    width: int

    @property
    def output_size(self) -> Tuple[int, int]:
        return tuple((size + 2 * pad - k) // s + 1 for size, pad, k, s in zip(
            (self.height, self.width), self.padding, self.kernel, self.stride))

    @property
    def macs(self) -> int:
        kh, kw = self.kernel
        oh, ow = self.output_size
        return self.in_channels // self.groups * self.out_channels * kh * kw * oh * ow


@torch.no_grad()
def conv_shapes(model: nn.Module, x: torch.Tensor) -> List[ConvShape]:
    """Every ``Conv2d`` and ``Linear`` that ``model(x)`` runs, in the order it runs them."""
    found: List[ConvShape] = []

    def record(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            _, _, height, width = inputs[0].shape
            found.append(ConvShape(module.in_channels, module.out_channels,
                                   module.kernel_size, module.stride, module.padding,
                                   module.groups, height, width))
        else:
            found.append(ConvShape(module.in_features, module.out_features, (1, 1), (1, 1),
                                   (0, 0), 1, 1, 1))

    hooks = [m.register_forward_hook(record) for m in model.modules()
             if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        model(x)
    finally:
        for hook in hooks:
            hook.remove()
    return found


def floor_chains(convs: List[ConvShape], image: Tuple[int, int, int]
                 ) -> Tuple[List[object], Dict[Tuple[int, int, int], List[ConvShape]]]:
    """Split ``convs`` into the main chain, from an ``image`` of (channels, height, width),
    and side chains keyed by their input's (channels, height, width).

    Returns:
        tuple: The main chain (its convs, and ``'pool'`` where it pools globally) and the
        side chains.

    Raises:
        ValueError: A conv that neither takes the main chain's output nor keeps its own
            input's shape, so that no chain can hold it.
    """
    channels, height, width = image
    main: List[object] = []
    sides: Dict[Tuple[int, int, int], List[ConvShape]] = {}
    for conv in convs:
        if conv.in_channels == channels and (conv.height, conv.width) != (height, width) \
                and (conv.height, conv.width) == (1, 1):
            main.append('pool')
            height = width = 1
        if conv.in_channels == channels and (conv.height, conv.width) == (height, width):
            main.append(conv)
            channels, (height, width) = conv.out_channels, conv.output_size
        elif conv.out_channels == conv.in_channels and conv.output_size == (conv.height,
                                                                            conv.width):
            sides.setdefault((conv.in_channels, conv.height, conv.width), []).append(conv)
        else:
            raise ValueError(f'no chain of plain convs holds {conv}: it neither takes the '
                             f'main chain\'s output ({channels}x{height}x{width}) nor keeps '
                             f'its input\'s shape')
    return main, sides


def floor_onnx(convs: List[ConvShape], image: Tuple[int, int, int] = (3, 224, 224),
               opset: int = 20, seed: int = 0):
    """The ONNX model of the kernel floor of ``convs`` (:func:`floor_chains`), random
    weights scaled to keep every chain's activations at the scale of its input: inputs
    ``image`` and ``side<i>`` (one per side chain) with a dynamic ``batch`` axis, and an
    output per chain.

    Returns:
        onnx.ModelProto: The model.
    """
    from onnx import TensorProto, helper, numpy_helper
    main, sides = floor_chains(convs, image)
    rng = np.random.default_rng(seed)
    nodes, weights = [], []

    def conv_node(conv: ConvShape, source: str, name: str, gain: float) -> str:
        fan_in = conv.in_channels // conv.groups * conv.kernel[0] * conv.kernel[1]
        weight = rng.standard_normal((conv.out_channels, conv.in_channels // conv.groups,
                                      *conv.kernel), np.float32) * np.sqrt(gain / fan_in)
        weights.append(numpy_helper.from_array(weight.astype(np.float32), f'{name}.weight'))
        weights.append(numpy_helper.from_array(np.zeros(conv.out_channels, np.float32),
                                               f'{name}.bias'))
        nodes.append(helper.make_node(
            'Conv', [source, f'{name}.weight', f'{name}.bias'], [name], name=name,
            kernel_shape=list(conv.kernel), strides=list(conv.stride),
            pads=[*conv.padding, *conv.padding], group=conv.groups))
        return name

    def spec(name: str, shape: Tuple[int, ...]):
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, ['batch', *shape])

    inputs, outputs = [spec('image', image)], []
    tensor = 'image'
    for i, step in enumerate(main):
        if step == 'pool':
            nodes.append(helper.make_node('GlobalAveragePool', [tensor], [f'main.{i}'],
                                          name=f'main.{i}'))
            tensor = f'main.{i}'
            continue
        tensor = conv_node(step, tensor, f'main.{i}', gain=2)  # ReLU halves the variance
        if i + 1 < len(main):
            nodes.append(helper.make_node('Relu', [tensor], [f'{tensor}.relu'],
                                          name=f'{tensor}.relu'))
            tensor = f'{tensor}.relu'
    last = main[-1]
    outputs.append(spec(tensor, (last.out_channels, *last.output_size)))
    for s, (shape, chain) in enumerate(sides.items()):
        inputs.append(spec(f'side{s}', shape))
        tensor = f'side{s}'
        for i, conv in enumerate(chain):
            tensor = conv_node(conv, tensor, f'side{s}.{i}', gain=1)
        outputs.append(spec(tensor, shape))
    graph = helper.make_graph(nodes, 'kernel_floor', inputs, outputs, weights)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)],
                             ir_version=10)


def floor_feeds(model, batch: int = 1, seed: int = 0) -> Dict[str, np.ndarray]:
    """Random inputs for every input of a floor model (:func:`floor_onnx`) at ``batch``."""
    rng = np.random.default_rng(seed)
    return {value.name: rng.standard_normal(
        (batch, *(d.dim_value for d in value.type.tensor_type.shape.dim[1:])), np.float32)
        for value in model.graph.input}


def deployed_with_floor(name: str, workdir: str, calibration_images: int
                        ) -> Dict[str, Tuple[str, Dict[str, str], Feeds]]:
    """The classifier ``name`` deployed (:func:`~.low_precision.deployed_files`) and its
    kernel floor (keyed ``'<name> floor'``) quantised the same way, each calibrated on
    ``calibration_images`` random inputs: each one's fp32 file, int8 models and feeds."""
    model = switch_to_deploy(build_classifier(name))
    calibration = random_images(calibration_images, SHAPE, seed=0)
    fp32, int8 = deployed_files(model, osp.join(workdir, f'{name}.onnx'), SHAPE, calibration)
    proto = floor_onnx(conv_shapes(model, torch.from_numpy(calibration[0]['image'])))
    floor = osp.join(workdir, f'{name}_floor.onnx')
    write_bytes_atomically(proto.SerializeToString(), floor)
    floor_calibration = [floor_feeds(proto, seed=i) for i in range(calibration_images)]
    return {name: (fp32, int8, calibration[0]),
            f'{name} floor': (floor, quantized_copies(floor, floor_calibration),
                              floor_calibration[0])}


def time_and_profile(files: Dict[str, tuple], rows: Sequence[Row], thread_counts: Sequence[int],
                     rounds: int, profile_runs: int
                     ) -> Tuple[Dict[tuple, float], Dict[tuple, dict]]:
    """Every model of ``files`` (:func:`deployed_with_floor`) in every row: timed on each of
    ``thread_counts``, all side by side in one round-robin of ``rounds``
    (:func:`~.low_precision.settled_latency_ms`), and profiled on one thread.

    Returns:
        tuple: The median ms keyed ``(key, runtime, precision, threads)`` and the profile
        keyed ``(key, runtime, precision)``.
    """
    latency, profiles = {}, {}
    for row in rows:
        for threads in thread_counts:
            calls = {}
            for key, (fp32, int8, feeds) in files.items():
                calls.update({(*k, threads): call for k, call in runtime_calls(
                    key, fp32, int8, feeds, threads, [row]).items()})
            latency.update(settled_latency_ms(calls, rounds))
            del calls  # the runtimes' memory, before the next ones open
        for key, (fp32, int8, feeds) in files.items():
            profiles[(key, *row)] = profile_row(fp32, int8, *row, feeds, profile_runs)
        print(f'timed and profiled {row}', flush=True)
    return latency, profiles


def floor_table(names: Sequence[str], rows: Sequence[Row], thread_counts: Sequence[int],
                latency: Dict[tuple, float]) -> List[str]:
    """Each model's ms, its floor's and their multiple, per row and thread count."""
    cells = []
    for row in rows:
        for threads in thread_counts:
            cells.append([*row, threads])
            for name in names:
                ms, floor = (latency[(key, *row, threads)] for key in (name, f'{name} floor'))
                cells[-1] += [f'{ms:.2f}', f'{floor:.2f}', f'{ms / floor:.2f}']
    return markdown_table(['runtime', 'precision', 'threads',
                           *(c for n in names for c in (f'{n} ms', 'floor ms', 'multiple'))],
                          cells)


def profile_lines(model: dict, floor: dict) -> List[str]:
    """The per-operator profile of a model beside its floor's: ms per run of each kind,
    the largest first; kinds under :data:`PROFILE_SHARE` of both totals summed in one."""
    total_model, total_floor = (sum(ms for ms, _ in p.values()) for p in (model, floor))
    kinds = sorted(set(model) | set(floor),
                   key=lambda k: -max(model.get(k, (0, 0))[0], floor.get(k, (0, 0))[0]))
    cells = []
    rest = [0.0, 0.0]
    for kind in kinds:
        ms = model.get(kind, (0, 0))[0], floor.get(kind, (0, 0))[0]
        if ms[0] < PROFILE_SHARE * total_model and ms[1] < PROFILE_SHARE * total_floor:
            rest = [rest[0] + ms[0], rest[1] + ms[1]]
        else:
            cells.append([kind, f'{ms[0]:.3f}', f'{ms[1]:.3f}'])
    cells += [['the rest', f'{rest[0]:.3f}', f'{rest[1]:.3f}'],
              ['**total**', f'**{total_model:.3f}**', f'**{total_floor:.3f}**']]
    return markdown_table(['operator (kernel)', 'model ms', 'floor ms'], cells)


def profile_section(names: Sequence[str], rows: Sequence[Row], profiles: Dict[tuple, dict],
                    profile_runs: int) -> List[str]:
    """Where the time goes: :func:`profile_lines` of each model in each row."""
    lines = ['', f'Where the time goes: per-operator profiles, one thread, mean of '
             f'{profile_runs} runs (profiling adds a little to each operator).']
    for name in names:
        for row in rows:
            lines += ['', f'### {name}, {row[0]} {row[1]}', ''] + profile_lines(
                profiles[(name, *row)], profiles[(f'{name} floor', *row)])
    return lines


def floor_note(calibration_images: int, rounds: int) -> str:
    """How the models and their floors were deployed and timed."""
    return (f'Each model\'s file as deployment writes it (BN folded, `export_onnx`, '
            f'`quantize_model` on {calibration_images} random images) and its kernel floor '
            f'(every conv of the model at its own shape, as chains of plain convs with the '
            f'same multiply-adds: `benchmarks.lab.kernel_floor`), quantised the same '
            f'way. Batch 1, 224x224; median of {rounds} round-robin runs, model and floor side '
            f'by side, each warm (untimed runs at the start of its turn: {SETTLE_RUNS}, and at '
            f'least {SETTLE_S * 1e3:.0f} ms of them, since ONNX Runtime\'s idle threads spin '
            f'on).')


def floor_record(latency: Dict[tuple, float]) -> dict:
    """The JSON record: the machine, and a row per model (or floor), row and threads."""
    cpu, flags = cpu_name_and_flags()
    return dict(cpu=cpu, flags=flags, rows=[
        dict(model=key, runtime=runtime, precision=precision, batch=1, threads=threads,
             median_ms=round(ms, 3))
        for (key, runtime, precision, threads), ms in latency.items()])
