"""Latency of FasterNet and its peers on this machine, the paper's way (batch 1, one thread,
224x224, BN folded, median after warm-up), in PyTorch and in ONNX Runtime; batch-32
throughput; FasterNet-S against ResNet-50 on every inference path and inside Mask R-CNN and
UperNet; with --low-precision, every runtime and precision of the deploy path (ONNX Runtime
fp32/int8, OpenVINO fp32/bf16/int8), at batch 1 and in batch-32 throughput. Writes
benchmarks.md, benchmarks.json and a latency-vs-accuracy plot like the paper's Figure 1 into
--out (this project's own results are in docs/results/).

    python tools/analysis/benchmark.py [--out work_dirs/benchmark] [--low-precision]
        [--no-detectors]
"""
import argparse
import copy
import os
import os.path as osp
import tempfile

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from benchmarks.lab.detector_latency import (busy_detector, detector_calls,  # noqa: E402
                                             detector_files)
from benchmarks.lab.latency import (INFERENCE_PATHS, MATMUL_MACS, build_classifier,  # noqa: E402
                                    inference_path, interleaved_latency_ms, matmul_call)
from benchmarks.lab.low_precision import (SETTLE_RUNS, SETTLE_S, batch_calls,  # noqa: E402
                                          benchmark_record, cpu_name_and_flags, images_per_s,
                                          quantized_copies, runnable_rows, runtime_calls)
from benchmarks.lab.paper import paper_column  # noqa: E402
from benchmarks.lab.peers import DENSE_PAIRS, PATH_PAIRS  # noqa: E402
from mmfasternet.analysis import count_model, tensor_model  # noqa: E402
from mmfasternet.deploy import RUNTIMES, export_onnx, open_runtime, switch_to_deploy  # noqa: E402
from mmfasternet.deploy.tasks import task_of_config  # noqa: E402
from mmfasternet.engine.tool_config import load_config  # noqa: E402
from mmfasternet.fileio import (prepare_output_folder, write_json_atomically,  # noqa: E402
                                write_text_atomically)

# Paper Tab. 3: ImageNet top-1 (%) and i9-9900X single-thread latency (ms), by the names
# mmpretrain gives the same architectures (configs/paper.yml).
PAPER = {name: (top1, paper_column('imagenet', 'cpu_ms')[name])
         for name, top1 in paper_column('imagenet', 'top1').items()}
# Threads of the low-precision throughput rows: one, and every core.
BATCH_THREADS = sorted({1, os.cpu_count()})


def add_matmuls(calls: dict, threads: int) -> None:
    """Time the machine's matmul peak in the same round-robin as the models."""
    for backend in ('pytorch', 'onnxruntime'):
        calls['matmul', backend] = matmul_call(backend=backend, threads=threads)


def matmul_rates(latency: dict) -> dict:
    """Each backend's 1024x1024 matmul rate (GMAC/s) from a round-robin."""
    return {b: MATMUL_MACS / latency['matmul', b] / 1e6 for b in ('pytorch', 'onnxruntime')}


def classifier_table(args, workdir: str) -> tuple:
    """Latency (PyTorch folded and ONNX Runtime), throughput and sizes of every model,
    and the matmul rates of both backends measured beside them."""
    x = torch.randn(1, 3, 224, 224)
    models = {name: build_classifier(name) for name in args.models}
    folded = {name: inference_path(model, 'folded', x)[0] for name, model in models.items()}
    sizes = {name: count_model(model, (x, )) for name, model in folded.items()}
    calls = {}
    for name, model in models.items():
        calls[name, 'folded'] = folded[name], x
        calls[name, 'onnxruntime'] = inference_path(
            model, 'onnxruntime', x, osp.join(workdir, f'{name}.onnx'), args.threads)
    add_matmuls(calls, args.threads)
    latency = interleaved_latency_ms(calls, rounds=args.rounds, per_round=1)
    peaks = matmul_rates(latency)
    peak = max(peaks.values())
    throughput = {}
    if args.throughput_batch:
        torch.set_num_threads(os.cpu_count())
        batch = torch.randn(args.throughput_batch, 3, 224, 224)
        seconds = interleaved_latency_ms(
            {name: (model, batch) for name, model in folded.items()}, rounds=2, per_round=1,
            warmup=1)
        throughput = {name: args.throughput_batch / ms * 1e3 for name, ms in seconds.items()}
        torch.set_num_threads(args.threads)

    batch_column = f' batch-{args.throughput_batch} img/s |' if throughput else ''
    lines = [
        '| model | params (M) | GMACs | PyTorch (ms) | GMAC/s | ONNX Runtime (ms) | GMAC/s '
        f'| % of matmul |{batch_column} paper top-1 | paper i9 latency (ms) |',
        '|---' * (10 + bool(throughput)) + '|']
    rows = []
    for name in args.models:
        gmacs = sizes[name]['gflops']
        torch_ms, ort_ms = latency[name, 'folded'], latency[name, 'onnxruntime']
        top1, paper_ms = PAPER[name]
        best_rate = gmacs / min(torch_ms, ort_ms) * 1e3
        rows.append((name, torch_ms, ort_ms, top1))
        lines.append(
            f'| {name} | {sizes[name]["params_m"]:.1f} | {gmacs:.2f} | {torch_ms:.1f} | '
            f'{gmacs / torch_ms * 1e3:.1f} | {ort_ms:.1f} | {gmacs / ort_ms * 1e3:.1f} | '
            f'{100 * best_rate / peak:.0f}% |'
            + (f' {throughput[name]:.1f} |' if throughput else '') + f' {top1} | {paper_ms} |')
        print(lines[-1], flush=True)
    return lines, rows, peaks


def paths_table(args, workdir: str) -> list:
    """Every inference path of FasterNet-S, T0 and their peers, in one round-robin."""
    x = torch.randn(1, 3, 224, 224)
    names = [n for pair in PATH_PAIRS for n in pair]
    calls = {}
    for name in names:
        model = build_classifier(name)
        for path in INFERENCE_PATHS:
            calls[name, path] = inference_path(model, path, x,
                                               osp.join(workdir, f'{name}_paths.onnx'),
                                               args.threads)
    add_matmuls(calls, args.threads)
    latency = interleaved_latency_ms(calls, rounds=args.rounds, per_round=1)
    peak = max(matmul_rates(latency).values())
    lines = ['| model | ' + ' | '.join(INFERENCE_PATHS) + ' |',
             '|---|' + '---|' * len(INFERENCE_PATHS)]
    for name in names:
        plain = latency[name, 'eval']
        lines.append(f'| {name} | ' + ' | '.join(
            f'{latency[name, p]:.1f} ({latency[name, p] / plain:.2f}x)'
            for p in INFERENCE_PATHS) + ' |')
    lines += ['', 'The same paths side by side: FasterNet latency over its peer\'s.', '',
              '| pair | ' + ' | '.join(INFERENCE_PATHS) + ' |',
              '|---|' + '---|' * len(INFERENCE_PATHS)]
    for ours, peer in PATH_PAIRS:
        lines.append(f'| {ours} / {peer} | ' + ' | '.join(
            f'{latency[ours, p] / latency[peer, p]:.2f}' for p in INFERENCE_PATHS) + ' |')
    lines += ['', f'Achieved multiply-add rate as a share of the 1024x1024 matmul '
              f'({peak:.1f} GMAC/s, the faster backend, timed in the same round-robin):', '',
              '| model | ' + ' | '.join(INFERENCE_PATHS) + ' |',
              '|---|' + '---|' * len(INFERENCE_PATHS)]
    for name in names:
        gmacs = count_model(calls[name, 'folded'][0], (x, ))['gflops']
        lines.append(f'| {name} | ' + ' | '.join(
            f'{100 * gmacs / latency[name, p] * 1e3 / peak:.0f}%'
            for p in INFERENCE_PATHS) + ' |')
    print('\n'.join(lines), flush=True)
    return lines


def dense_table(args, workdir: str) -> list:
    """Whole Mask R-CNN and UperNet inference with FasterNet-S against the same with
    ResNet-50: PyTorch eval, PyTorch folded and ONNX Runtime, on one thread and on all
    cores, each thread count timed round-robin."""
    lines = ['| model | input | backbone | params (M) | GMACs | threads | eval (ms) | '
             'folded (ms) | ONNX Runtime (ms) | ORT / eval |', '|---' * 10 + '|']
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
        for threads in (1, os.cpu_count()):
            torch.set_num_threads(threads)
            calls = {}
            for backbone, model in models.items():
                calls[backbone, 'eval'] = model, x
                calls[backbone, 'folded'] = inference_path(model, 'folded', x)
                runtime = open_runtime(files[backbone], threads=threads)
                calls[backbone, 'onnxruntime'] = runtime.run, task.image_feeds(
                    x, runtime.input_names)
            latency = interleaved_latency_ms(calls, rounds=args.dense_rounds, per_round=1,
                                             warmup=1)
            for backbone in models:
                eval_ms, ort_ms = latency[backbone, 'eval'], latency[backbone, 'onnxruntime']
                lines.append(f'| {name} | {shape[1]}x{shape[0]} | {backbone} | '
                             f'{sizes[backbone]["params_m"]:.1f} | '
                             f'{sizes[backbone]["gflops"]:.1f} | {threads} | {eval_ms:.0f} | '
                             f'{latency[backbone, "folded"]:.0f} | {ort_ms:.0f} | '
                             f'{ort_ms / eval_ms:.2f} |')
                print(lines[-1], flush=True)
    torch.set_num_threads(args.threads)
    return lines


def ratio_table(latency: dict, names: list, pairs: list, rows: list) -> list:
    """One line per (runtime, precision): each model's median ms and each pair's ratio."""
    lines = ['| runtime | precision | ' + ' | '.join(names) + ' | '
             + ' | '.join(f'{a} / {b}' for a, b in pairs) + ' |',
             '|---|---|' + '---|' * (len(names) + len(pairs))]
    for runtime, precision in rows:
        ms = {n: latency[n, runtime, precision] for n in names}
        lines.append(f'| {runtime} | {precision} | '
                     + ' | '.join(f'{ms[n]:.2f}' for n in names) + ' | '
                     + ' | '.join(f'{ms[a] / ms[b]:.2f}' for a, b in pairs) + ' |')
    return lines


def throughput_table(throughput: dict, names: list, pairs: list, rows: list,
                     thread_counts: list) -> list:
    """One line per (runtime, precision, threads): each model's images/s at the batch of
    ``throughput`` (keys of :func:`batch_calls`) and each pair's ratio of images/s, which is
    above 1 where FasterNet (the first of a pair) is faster."""
    batch = next(iter(throughput))[3]
    lines = ['| runtime | precision | threads | ' + ' | '.join(names) + ' | '
             + ' | '.join(f'{a} / {b}' for a, b in pairs) + ' |',
             '|---|---|---|' + '---|' * (len(names) + len(pairs))]
    for runtime, precision in rows:
        for threads in thread_counts:
            rate = {n: images_per_s(batch, throughput[n, runtime, precision, batch, threads])
                    for n in names}
            lines.append(f'| {runtime} | {precision} | {threads} | '
                         + ' | '.join(f'{rate[n]:.1f}' for n in names) + ' | '
                         + ' | '.join(f'{rate[a] / rate[b]:.2f}' for a, b in pairs) + ' |')
    return lines


def low_precision_tables(args, workdir: str) -> tuple:
    """FasterNet T0 and S, MobileNetV2 and ResNet-50 at batch 1 and at
    ``--low-precision-batch``, then (unless ``--no-detectors``) the whole Mask R-CNN S and
    R50, in every runtime and precision, each set timed in one round-robin (the batches: one
    per thread count); int8 files are quantised for each runtime as the deploy path does, on
    random images."""
    rows = runnable_rows()
    names = [n for pair in PATH_PAIRS for n in pair]
    x = torch.randn(1, 3, 224, 224)
    files = {}
    for name in names:
        fp32 = osp.join(workdir, f'{name}_lowp.onnx')
        export_onnx(switch_to_deploy(copy.deepcopy(build_classifier(name))), fp32,
                    tuple(x.shape))
        calibration = [dict(image=torch.randn(*x.shape).numpy()) for _ in range(8)]
        files[name] = fp32, quantized_copies(fp32, calibration)
    calls = {}
    for name, (fp32, int8) in files.items():
        calls.update(runtime_calls(name, fp32, int8, dict(image=x.numpy()), args.threads, rows))
    latency = interleaved_latency_ms(calls, rounds=args.rounds, per_round=1,
                                     settle=SETTLE_RUNS, settle_s=SETTLE_S)
    lines = ratio_table(latency, names, list(PATH_PAIRS), rows)
    print('\n'.join(lines), flush=True)
    del calls  # the runtimes' memory, before the next ones open
    throughput, batch_lines = {}, []
    if args.low_precision_batch:
        # A batch run takes 0.1 to a few s: warm after one run, and a cold start is noise.
        feeds = dict(image=torch.randn(args.low_precision_batch, *x.shape[1:]).numpy())
        for threads in BATCH_THREADS:
            calls = batch_calls(files, feeds, threads, rows)
            throughput.update(interleaved_latency_ms(calls, rounds=args.batch_rounds,
                                                     per_round=1, warmup=1, settle_s=SETTLE_S))
            del calls
        batch_lines = throughput_table(throughput, names, list(PATH_PAIRS), rows,
                                       BATCH_THREADS)
        print('\n'.join(batch_lines), flush=True)
    if not args.detectors:
        return lines, batch_lines, ([], {}), latency, throughput
    return (lines, batch_lines, detector_tables(args, workdir, rows), latency,
            throughput)


def detector_tables(args, workdir: str, rows: list) -> tuple:
    """The whole Mask R-CNN S and R50 at 1333x800 with 100 detections, each with its masks
    pasted in the file and inside each box after it (the runtime model's run), in every
    runtime and precision: one round-robin per row (the four detectors of a row)."""
    ours, peer, shape = DENSE_PAIRS['Mask R-CNN']
    detectors = {}
    for backbone, config in (('Mask R-CNN FasterNet-S', ours), ('Mask R-CNN ResNet-50', peer)):
        detector = busy_detector(config, shape)
        detectors[backbone] = detector, detector_files(detector, backbone, workdir, shape)
    image = torch.randn(1, 3, *shape)
    latency = {}
    for row in rows:
        calls = {}
        for backbone, (detector, files) in detectors.items():
            calls.update(detector_calls(backbone, detector, files, image, args.threads, [row]))
        latency.update(interleaved_latency_ms(calls, rounds=args.dense_rounds, per_round=1,
                                              warmup=1))
        del calls
    latency = {(f'{name} ({form} masks)', runtime, precision): ms
               for (name, form, runtime, precision), ms in latency.items()}
    (s_box, s_image), (r50_box, r50_image) = (
        [f'{backbone} ({form} masks)' for form in ('box', 'image')] for backbone in detectors)
    names = [s_box, s_image, r50_box, r50_image]
    # Box-local masks against masks pasted in the file, for each backbone; then S and R50.
    pairs = [(s_box, s_image), (r50_box, r50_image), (s_box, r50_box)]
    lines = ratio_table(latency, names, pairs, rows)
    print('\n'.join(lines), flush=True)
    return lines, latency


def plot(rows: list, threads: int, path: str) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(13, 5), dpi=100, sharey=True)
    for ax, column, title in ((axes[0], 1, 'PyTorch, BN folded'),
                              (axes[1], 2, 'ONNX Runtime')):
        families = {}
        for row in rows:
            family = row[0].split('_')[0].split('-')[0]
            families.setdefault(family, []).append((row[column], row[3]))
        others = iter(['tab:blue', 'tab:orange', 'tab:green', 'tab:purple', 'tab:brown',
                       'tab:pink', 'tab:gray', 'tab:olive', 'tab:cyan'])
        for family, points in families.items():
            points.sort()
            style = (dict(linewidth=2.5, color='tab:red') if family == 'fasternet' else
                     dict(color=next(others)))
            ax.plot(*zip(*points), marker='o', label=family, **style)
        ax.set_xscale('log')
        values = [row[column] for row in rows]
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
    fig.tight_layout()
    fig.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--models', nargs='+', default=list(PAPER), choices=list(PAPER),
                        metavar='MODEL', help=f'any of: {", ".join(PAPER)}')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--rounds', type=int, default=20,
                        help='round-robin rounds of one run per model: this machine\'s speed '
                        'drifts, and fine interleaving keeps the ratios fair')
    parser.add_argument('--throughput-batch', type=int, default=32,
                        help='batch for the throughput column (all cores); 0 skips it')
    parser.add_argument('--paths', action='store_true',
                        help='also time every inference path of S, T0 and their peers')
    parser.add_argument('--dense', action='store_true',
                        help='also time Mask R-CNN and UperNet, FasterNet-S vs ResNet-50')
    parser.add_argument('--dense-rounds', type=int, default=5)
    parser.add_argument('--low-precision', action='store_true',
                        help='also time every runtime and precision of the deploy path: T0, '
                        'S and their peers, and the whole Mask R-CNN S and R50 at 1333x800 '
                        '(--dense-rounds), at batch 1 on --threads, and the classifiers at '
                        '--low-precision-batch on 1 thread and on every core; writes '
                        'benchmarks.json')
    parser.add_argument('--low-precision-batch', type=int, default=32,
                        help='batch of the low-precision throughput rows; 0 skips them')
    parser.add_argument('--batch-rounds', type=int, default=5,
                        help='round-robin rounds of the low-precision throughput rows (a '
                        'batch of 32 of ResNet-50 fp32 on one thread takes seconds)')
    parser.add_argument('--no-detectors', dest='detectors', action='store_false',
                        help='--low-precision without the whole Mask R-CNN')
    parser.add_argument('--out', default=osp.join('work_dirs', 'benchmark'),
                        help='folder for benchmarks.md and the plot (created if needed)')
    args = parser.parse_args()
    prepare_output_folder(parser, args.out)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as workdir:
        table, rows, peaks = classifier_table(args, workdir)
        paths = paths_table(args, workdir) if args.paths else []
        dense = dense_table(args, workdir) if args.dense else []
        lowp = low_precision_tables(args, workdir) if args.low_precision else None
    cpu, flags = cpu_name_and_flags()
    lines = [
        '# CPU benchmark', '',
        f'CPU: {cpu}, {os.cpu_count()} cores; int8/bf16 instructions: '
        f'{", ".join(flags) or "none of avx512_vnni, avx512_bf16, amx_int8, amx_bf16"}.', '',
        f'`python tools/analysis/benchmark.py {"--paths " if args.paths else ""}'
        f'{"--dense " if args.dense else ""}'
        f'{"--low-precision" if args.low_precision else ""}'
        f'{" --no-detectors" if args.low_precision and not args.detectors else ""}`'
        .replace(' `', '`')
        + f' ({os.cpu_count()} cores), torch {torch.__version__}, {args.threads} thread(s), '
        f'batch 1, 224x224, BN folded (`mmfasternet.deploy.switch_to_deploy`: FasterNet by '
        f'its own method, peers by mmcv `fuse_conv_bn`). Median of {args.rounds} runs per '
        f'model and backend, taken round-robin (one run of each in turn), so the ratios '
        f'are side by side. Peers are mmpretrain 1.2.0 architectures. A 1024x1024 fp32 '
        f'matmul, timed in the same round-robin, reaches {peaks["pytorch"]:.1f} GMAC/s in '
        f'PyTorch and {peaks["onnxruntime"]:.1f} GMAC/s in ONNX Runtime; "% of matmul" is '
        f'the faster backend\'s rate over the higher of the two.'
        + (' Throughput: PyTorch, BN folded, all cores.' if args.throughput_batch else ''),
        ''] + table
    if paths:
        lines += ['', '## Inference paths', '',
                  'Latency (ms) of each path, and its ratio to plain eval mode, measured '
                  'round-robin in one run:', '']
        lines += [f'- `{path}`: {what}' for path, what in INFERENCE_PATHS.items()] + ['']
        lines += paths
    if dense:
        lines += ['', '## Detector and segmentor', '',
                  f'Whole inference of one image, no weights: Mask R-CNN with its RPN, box and '
                  f'mask heads, NMS and pasted masks; UperNet to the class map. ONNX Runtime '
                  f'runs the files of `tools/deployment/pytorch2onnx.py`. Median of '
                  f'{args.dense_rounds} round-robin runs after one warm-up, per thread '
                  f'count.', ''] + dense
    if lowp:
        classifiers, batches, (whole, whole_latency), lowp_latency, throughput = lowp
        lines += ['', '## Runtimes and precisions', '',
                  f'Median ms of {args.rounds} round-robin runs ({args.threads} thread(s), '
                  f'batch 1, 224x224), every model in every row timed in one round-robin, '
                  f'each warm (untimed runs at the start of its turn: {SETTLE_RUNS}, and '
                  f'{SETTLE_S * 1e3:.0f} ms of them at least, since ONNX Runtime\'s idle '
                  f'threads spin on); '
                  f'int8: the fp32 file quantised for each runtime by `mmfasternet.deploy.'
                  f'quantization.quantize_model` on 8 random images (ONNX Runtime: its '
                  f'`quantize_static`; OpenVINO: NNCF).'
                  + ('' if RUNTIMES['openvino'].runs_fast('bf16') else
                     ' No bf16 row: this CPU has no bf16 instructions, so OpenVINO would '
                     'run fp32.'), ''] + classifiers
        if batches:
            lines += ['', f'Throughput, images/s at batch {args.low_precision_batch} '
                      f'(224x224) on 1 thread and on all {os.cpu_count()} cores: median of '
                      f'{args.batch_rounds} round-robin runs of one batch after one warm-up, '
                      f'each run after {SETTLE_S * 1e3:.0f} ms of untimed ones at least, '
                      f'every model in every row timed in one round-robin per thread count; '
                      f'the same files as above. A ratio is FasterNet\'s images/s over its '
                      f'peer\'s: above 1, FasterNet is faster (the inverse of the latency '
                      f'ratios).', ''] + batches
        if whole:
            lines += ['', f'The whole Mask R-CNN at 1333x800, random weights but the box '
                      f'head\'s bias of one class set to 10, so that every proposal scores '
                      f'high and the mask head works on the config\'s max_per_img of 100 '
                      f'detections, as in a busy image; each file in both forms of its '
                      f'masks (`pytorch2onnx.py --masks`): pasted into the image in the file '
                      f'(`image`), or 28x28 per detection and pasted inside each box after '
                      f'it (`box`), timed as `tools/test.py` runs them (the runtime model\'s '
                      f'`run`: inputs, the file, the paste). int8 calibrated on 2 random '
                      f'images; median of {args.dense_rounds} runs after one warm-up, the '
                      f'four detectors round-robin within each row:', ''] + whole
        record = benchmark_record({**lowp_latency, **whole_latency}, args.threads, throughput)
        write_json_atomically(record, osp.join(args.out, 'benchmarks.json'), indent=1)
    plot(rows, args.threads, osp.join(args.out, 'latency_vs_accuracy.png'))
    write_text_atomically(
        '\n'.join(lines) + '\n\n![latency vs accuracy](latency_vs_accuracy.png)\n',
        osp.join(args.out, 'benchmarks.md'))
    print(f'wrote {args.out}/benchmarks.md and {args.out}/latency_vs_accuracy.png')


if __name__ == '__main__':
    main()
