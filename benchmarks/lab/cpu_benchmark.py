"""The sections of the CPU benchmark's ``benchmarks.md`` (``python -m benchmarks.benchmark``):
FasterNet and its peers the paper's way in PyTorch and ONNX Runtime with the machine's
matmul rate beside them, every inference path, the detector and segmentor, every runtime and
precision of the deploy path, and the latency-accuracy plot. Each section times its models
and returns its markdown lines, a blank line first."""
import copy
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn as nn

from mmfasternet.analysis import count_model, tensor_model
from mmfasternet.deploy import RUNTIMES, open_runtime
from mmfasternet.deploy.tasks import task_of_config
from mmfasternet.engine.tool_config import load_config
from .detector_latency import detector_table
from .latency import (INFERENCE_PATHS, MATMUL_MACS, build_classifier, inference_path,
                      interleaved_latency_ms, matmul_call)
from .low_precision import (SETTLE_RUNS, SETTLE_S, batch_calls, benchmark_record, deployed_files,
                            images_per_s, random_images, ratio_table, runnable_rows, runtime_calls,
                            settled_latency_ms, throughput_table)
from .paper import paper_column
from .peers import DENSE_PAIRS, PATH_PAIRS
from .report import figure, markdown_table, save_plot

# Paper Tab. 3: ImageNet top-1 (%) and i9-9900X single-thread latency (ms), by the names
# mmpretrain gives the same architectures (configs/paper.yml).
PAPER = {name: (top1, paper_column('imagenet', 'cpu_ms')[name])
         for name, top1 in paper_column('imagenet', 'top1').items()}
# Threads of the low-precision throughput rows: one, and every core.
BATCH_THREADS = sorted({1, os.cpu_count()})
SHAPE = (1, 3, 224, 224)
BACKENDS = ('pytorch', 'onnxruntime')


def with_matmuls(calls: dict, threads: int) -> dict:
    """``calls`` and each backend's 1024x1024 matmul (keyed ``('matmul', backend)``), to
    time the machine's peak in the same round-robin as the models."""
    return {**calls, **{('matmul', backend): matmul_call(backend=backend, threads=threads)
                        for backend in BACKENDS}}


def matmul_rates(latency: dict) -> Dict[str, float]:
    """Each backend's matmul rate (GMAC/s) from a round-robin of :func:`with_matmuls`."""
    return {backend: MATMUL_MACS / latency['matmul', backend] / 1e6 for backend in BACKENDS}


def folded_throughput(folded: Dict[str, nn.Module], batch: int,
                      threads: int) -> Dict[str, float]:
    """Images/s of each folded model at ``batch`` on every core, round-robin; PyTorch is
    left on ``threads`` after."""
    torch.set_num_threads(os.cpu_count())
    x = torch.randn(batch, *SHAPE[1:])
    ms = interleaved_latency_ms({name: (model, x) for name, model in folded.items()},
                                rounds=2, per_round=1, warmup=1)
    torch.set_num_threads(threads)
    return {name: images_per_s(batch, ms[name]) for name in folded}


def classifier_section(names: Sequence[str], threads: int, rounds: int, throughput_batch: int,
                       workdir: str) -> Tuple[str, List[str], List[tuple]]:
    """Latency of each model of ``names`` folded in PyTorch and in ONNX Runtime, beside the
    matmul of both, in one round-robin of ``rounds``; its size, and its images/s at
    ``throughput_batch`` (0: none).

    Returns:
        tuple: What the table was measured with (the header's note), the table, and
        ``(name, PyTorch ms, ONNX Runtime ms, paper top-1)`` of each model (the plot's).
    """
    x = torch.randn(*SHAPE)
    models = {name: build_classifier(name) for name in names}
    folded = {name: inference_path(model, 'folded', x)[0] for name, model in models.items()}
    sizes = {name: count_model(model, (x, )) for name, model in folded.items()}
    calls = {}
    for name, model in models.items():
        calls[name, 'folded'] = folded[name], x
        calls[name, 'onnxruntime'] = inference_path(
            model, 'onnxruntime', x, osp.join(workdir, f'{name}.onnx'), threads)
    latency = interleaved_latency_ms(with_matmuls(calls, threads), rounds=rounds, per_round=1)
    peaks = matmul_rates(latency)
    throughput = folded_throughput(folded, throughput_batch, threads) if throughput_batch else {}
    cells, points = [], []
    for name in names:
        gmacs = sizes[name]['gflops']
        torch_ms, ort_ms = latency[name, 'folded'], latency[name, 'onnxruntime']
        top1, paper_ms = PAPER[name]
        best_share = gmacs / min(torch_ms, ort_ms) * 1e3 / max(peaks.values())
        points.append((name, torch_ms, ort_ms, top1))
        cells.append([name, f'{sizes[name]["params_m"]:.1f}', f'{gmacs:.2f}', f'{torch_ms:.1f}',
                      f'{gmacs / torch_ms * 1e3:.1f}', f'{ort_ms:.1f}',
                      f'{gmacs / ort_ms * 1e3:.1f}', f'{100 * best_share:.0f}%',
                      *([f'{throughput[name]:.1f}'] if throughput else []), top1, paper_ms])
    table = markdown_table(
        ['model', 'params (M)', 'GMACs', 'PyTorch (ms)', 'GMAC/s', 'ONNX Runtime (ms)', 'GMAC/s',
         '% of matmul', *([f'batch-{throughput_batch} img/s'] if throughput else []),
         'paper top-1', 'paper i9 latency (ms)'], cells)
    print('\n'.join(table), flush=True)
    note = (f'{threads} thread(s), batch 1, 224x224, BN folded (`mmfasternet.deploy.'
            f'switch_to_deploy`: FasterNet by its own method, peers by mmcv `fuse_conv_bn`). '
            f'Median of {rounds} runs per model and backend, taken round-robin (one run of '
            f'each in turn), so the ratios are side by side. Peers are mmpretrain 1.2.0 '
            f'architectures. A 1024x1024 fp32 matmul, timed in the same round-robin, reaches '
            f'{peaks["pytorch"]:.1f} GMAC/s in PyTorch and {peaks["onnxruntime"]:.1f} GMAC/s '
            f'in ONNX Runtime; "% of matmul" is the faster backend\'s rate over the higher of '
            f'the two.' + (' Throughput: PyTorch, BN folded, all cores.' if throughput else ''))
    return note, table, points


def paths_section(threads: int, rounds: int, workdir: str) -> List[str]:
    """Every inference path of the models of :data:`~.peers.PATH_PAIRS`, in one
    round-robin with the matmul: each path's ms and its ratio to eval mode, FasterNet's
    over its peer's, and each path's multiply-add rate as a share of the matmul's."""
    x = torch.randn(*SHAPE)
    names = [name for pair in PATH_PAIRS for name in pair]
    calls = {}
    for name in names:
        model = build_classifier(name)
        for path in INFERENCE_PATHS:
            calls[name, path] = inference_path(model, path, x,
                                               osp.join(workdir, f'{name}_paths.onnx'), threads)
    latency = interleaved_latency_ms(with_matmuls(calls, threads), rounds=rounds, per_round=1)
    peak = max(matmul_rates(latency).values())
    gmacs = {name: count_model(calls[name, 'folded'][0], (x, ))['gflops'] for name in names}
    header_row = ['model', *INFERENCE_PATHS]
    lines = ['', '## Inference paths', '',
             'Latency (ms) of each path, and its ratio to plain eval mode, measured '
             'round-robin in one run:', '']
    lines += [f'- `{path}`: {what}' for path, what in INFERENCE_PATHS.items()] + ['']
    lines += markdown_table(header_row, [
        [name, *(f'{latency[name, p]:.1f} ({latency[name, p] / latency[name, "eval"]:.2f}x)'
                 for p in INFERENCE_PATHS)] for name in names])
    lines += ['', 'The same paths side by side: FasterNet latency over its peer\'s.', '']
    lines += markdown_table(['pair', *INFERENCE_PATHS], [
        [f'{ours} / {peer}', *(f'{latency[ours, p] / latency[peer, p]:.2f}'
                               for p in INFERENCE_PATHS)] for ours, peer in PATH_PAIRS])
    lines += ['', f'Achieved multiply-add rate as a share of the 1024x1024 matmul '
              f'({peak:.1f} GMAC/s, the faster backend, timed in the same round-robin):', '']
    lines += markdown_table(header_row, [
        [name, *(f'{100 * gmacs[name] / latency[name, p] * 1e3 / peak:.0f}%'
                 for p in INFERENCE_PATHS)] for name in names])
    print('\n'.join(lines), flush=True)
    return lines


def dense_section(threads: int, rounds: int, workdir: str) -> List[str]:
    """Whole Mask R-CNN and UperNet inference with FasterNet-S against the same with
    ResNet-50 (:data:`~.peers.DENSE_PAIRS`): PyTorch eval, PyTorch folded and ONNX Runtime,
    on one thread and on every core, each thread count timed round-robin; PyTorch is left
    on ``threads`` after."""
    cells = []
    for name, (ours, peer, shape) in DENSE_PAIRS.items():
        x = torch.randn(1, 3, *shape)
        models, sizes, files = {}, {}, {}
        for backbone, config in (('FasterNet-S', ours), ('ResNet-50', peer)):
            cfg = load_config(config)  # building a segmentor changes its config: copy it
            task = task_of_config(cfg)
            models[backbone] = tensor_model(copy.deepcopy(cfg), shape, mode='predict')
            sizes[backbone] = count_model(tensor_model(copy.deepcopy(cfg), shape), (x, ))
            files[backbone] = osp.join(workdir, f'{name}-{backbone}.onnx')
            task.export(models[backbone].model, files[backbone], shape)
        for count in (1, os.cpu_count()):
            torch.set_num_threads(count)
            calls = {}
            for backbone, model in models.items():
                calls[backbone, 'eval'] = model, x
                calls[backbone, 'folded'] = inference_path(model, 'folded', x)
                runtime = open_runtime(files[backbone], threads=count)
                calls[backbone, 'onnxruntime'] = runtime.run, task.image_feeds(
                    x, runtime.input_names)
            latency = interleaved_latency_ms(calls, rounds=rounds, per_round=1, warmup=1)
            for backbone in models:
                eval_ms, ort_ms = latency[backbone, 'eval'], latency[backbone, 'onnxruntime']
                cells.append([name, f'{shape[1]}x{shape[0]}', backbone,
                              f'{sizes[backbone]["params_m"]:.1f}',
                              f'{sizes[backbone]["gflops"]:.1f}', count, f'{eval_ms:.0f}',
                              f'{latency[backbone, "folded"]:.0f}', f'{ort_ms:.0f}',
                              f'{ort_ms / eval_ms:.2f}'])
            print(f'timed {name} on {count} thread(s)', flush=True)
    torch.set_num_threads(threads)
    table = markdown_table(['model', 'input', 'backbone', 'params (M)', 'GMACs', 'threads',
                            'eval (ms)', 'folded (ms)', 'ONNX Runtime (ms)', 'ORT / eval'], cells)
    print('\n'.join(table), flush=True)
    return ['', '## Detector and segmentor', '',
            f'Whole inference of one image, no weights: Mask R-CNN with its RPN, box and mask '
            f'heads, NMS and pasted masks; UperNet to the class map. ONNX Runtime runs the '
            f'files of `tools/deployment/pytorch2onnx.py`. Median of {rounds} round-robin runs '
            f'after one warm-up, per thread count.', ''] + table


def low_precision_section(threads: int, rounds: int, batch: int, batch_rounds: int,
                          detector_rounds: int, workdir: str) -> Tuple[List[str], dict]:
    """The models of :data:`~.peers.PATH_PAIRS` deployed (:func:`~.low_precision.
    deployed_files`) and timed in every runtime and precision this CPU runs fast: at batch 1
    on ``threads`` in one round-robin of ``rounds``; at ``batch`` (0: not) on one thread and
    on every core, one round-robin of ``batch_rounds`` per thread count; and the whole
    Mask R-CNN S and R50 (:func:`~.detector_latency.detector_table`) in ``detector_rounds``
    (0: not).

    Returns:
        tuple: The section's lines and its JSON record
        (:func:`~.low_precision.benchmark_record`).
    """
    rows = runnable_rows()
    names = [name for pair in PATH_PAIRS for name in pair]
    files = {name: deployed_files(build_classifier(name), osp.join(workdir, f'{name}_lowp.onnx'))
             for name in names}
    image, calls = random_images(1, SHAPE, seed=1)[0], {}
    for name, (fp32, int8) in files.items():
        calls.update(runtime_calls(name, fp32, int8, image, threads, rows))
    latency = settled_latency_ms(calls, rounds)
    del calls  # the runtimes' memory, before the next ones open
    lines = ['', '## Runtimes and precisions', '',
             f'Median ms of {rounds} round-robin runs ({threads} thread(s), batch 1, 224x224), '
             f'every model in every row timed in one round-robin, each warm (untimed runs at the '
             f'start of its turn: {SETTLE_RUNS}, and {SETTLE_S * 1e3:.0f} ms of them at least, '
             f'since ONNX Runtime\'s idle threads spin on); int8: the fp32 file quantised for '
             f'each runtime by `mmfasternet.deploy.quantization.quantize_model` on 8 random '
             f'images (ONNX Runtime: its `quantize_static`; OpenVINO: NNCF).'
             + ('' if RUNTIMES['openvino'].runs_fast('bf16') else
                ' No bf16 row: this CPU has no bf16 instructions, so OpenVINO would run fp32.'),
             ''] + ratio_table(latency, names, PATH_PAIRS, rows)
    print('\n'.join(lines), flush=True)
    throughput = {}
    if batch:
        feeds = random_images(1, (batch, *SHAPE[1:]), seed=2)[0]
        for count in BATCH_THREADS:
            throughput.update(settled_latency_ms(batch_calls(files, feeds, count, rows),
                                                 batch_rounds, batch))
        table = throughput_table(throughput, names, PATH_PAIRS, rows, BATCH_THREADS)
        print('\n'.join(table), flush=True)
        lines += ['', f'Throughput, images/s at batch {batch} (224x224) on 1 thread and on all '
                  f'{os.cpu_count()} cores: median of {batch_rounds} round-robin runs of one '
                  f'batch after one warm-up, each run after {SETTLE_S * 1e3:.0f} ms of untimed '
                  f'ones at least, every model in every row timed in one round-robin per '
                  f'thread count; the same files as above. A ratio is FasterNet\'s images/s '
                  f'over its peer\'s: above 1, FasterNet is faster (the inverse of the latency '
                  f'ratios).', ''] + table
    if detector_rounds:
        table, whole = detector_table(threads, detector_rounds, rows, workdir)
        print('\n'.join(table), flush=True)
        latency.update(whole)
        lines += ['', f'The whole Mask R-CNN at 1333x800, random weights but the box head\'s '
                  f'bias of one class set to 10, so that every proposal scores high and the '
                  f'mask head works on the config\'s max_per_img of 100 detections, as in a busy '
                  f'image; each file in both forms of its masks (`pytorch2onnx.py --masks`): '
                  f'pasted into the image in the file (`image`), or 28x28 per detection and '
                  f'pasted inside each box after it (`box`), timed as `tools/test.py` runs them '
                  f'(the runtime model\'s `run`: inputs, the file, the paste). int8 calibrated '
                  f'on 2 random images; median of {detector_rounds} runs after one warm-up, the '
                  f'four detectors round-robin within each row:', ''] + table
    return lines, benchmark_record(latency, threads, throughput)


def plot_latency_vs_accuracy(points: Sequence[tuple], threads: int, path: str) -> None:
    """Paper top-1 against latency in PyTorch and in ONNX Runtime (``points`` of
    :func:`classifier_section`), a line per family, FasterNet's red; saved to ``path``."""
    with figure(1, 2, figsize=(13, 5), dpi=100, sharey=True) as (fig, axes):
        for ax, column, title in ((axes[0], 1, 'PyTorch, BN folded'),
                                  (axes[1], 2, 'ONNX Runtime')):
            families = {}
            for point in points:
                family = point[0].split('_')[0].split('-')[0]
                families.setdefault(family, []).append((point[column], point[3]))
            others = iter(['tab:blue', 'tab:orange', 'tab:green', 'tab:purple', 'tab:brown',
                           'tab:pink', 'tab:gray', 'tab:olive', 'tab:cyan'])
            for family, xy in families.items():
                style = (dict(linewidth=2.5, color='tab:red') if family == 'fasternet' else
                         dict(color=next(others)))
                ax.plot(*zip(*sorted(xy)), marker='o', label=family, **style)
            ax.set_xscale('log')
            values = [point[column] for point in points]
            ticks = [t for t in (5, 10, 20, 50, 100, 200, 500, 1000, 2000)
                     if min(values) / 2 < t < max(values) * 2]
            ax.set_xticks(ticks, [str(t) for t in ticks])
            ax.minorticks_off()
            ax.set_xlabel(f'CPU latency (ms, {threads} thread, batch 1, log scale)')
            ax.set_title(title)
            ax.grid(True, which='both', alpha=0.3)
        axes[0].set_ylabel('ImageNet top-1 (%, paper Tab. 3)')
        axes[1].legend(fontsize=8)
        fig.suptitle('Latency on this machine vs accuracy')
        save_plot(fig, path)
