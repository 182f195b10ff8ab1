"""FasterNet among today's efficient networks (configs/peers.yml, built from timm): every
model exported, BN folded, and quantised as deployment does, then timed in every runtime and
precision (ONNX Runtime fp32/int8, OpenVINO fp32/bf16/int8) at batch 1 on one thread and on
all cores, and at batch 32 on all cores; every model of a row in one round-robin. Writes
peers.md (the tables and which FasterNet is on the latency-accuracy front of each path),
peers.json and one plot per measure into --out (this project's own results are in
docs/results/).

    python tools/analysis/benchmark_peers.py [--out work_dirs/peers] [--tiers T0 S]
        [--models fasternet_t0 lcnet_100] [--rows onnxruntime:fp32 openvino:int8]
"""
import argparse
import copy
import os
import os.path as osp
import tempfile

import numpy as np
import torch

from benchmarks.lab.front import flag_marks, front_verdicts, label, plot_front
from benchmarks.lab.latency import build_classifier, interleaved_latency_ms
from benchmarks.lab.low_precision import (SETTLE_RUNS, SETTLE_S, batch_calls, benchmark_record,
                                          cpu_name_and_flags, quantized_copies, runnable_rows)
from benchmarks.lab.peers import cited_top1, tiers
from mmfasternet.analysis import count_model
from mmfasternet.deploy import RUNTIMES, export_onnx, open_runtime, switch_to_deploy
from mmfasternet.fileio import prepare_output_folder, write_json_atomically, write_text_atomically

SHAPE = (3, 224, 224)


def measures(batch: int) -> list:
    """(title, file stem, batch, threads) of each measure: batch 1 on one thread and (on a
    machine of several) on every core, and (unless ``batch`` is 0) ``batch`` on every core."""
    cores = os.cpu_count()
    found = [('batch 1, 1 thread', 'latency_1_thread', 1, 1)]
    if cores > 1:
        found.append((f'batch 1, {cores} threads', f'latency_{cores}_threads', 1, cores))
    if batch:
        found.append((f'batch {batch}, {cores} threads', f'throughput_batch_{batch}', batch,
                      cores))
    return found


def prepare(names: list, workdir: str, calibration_images: int) -> tuple:
    """Each model's fp32 file and int8 models, and its params and GMACs (BN folded); the
    exported file is checked against the PyTorch model first."""
    rng = np.random.default_rng(0)
    calibration = [dict(image=rng.standard_normal((1, *SHAPE), np.float32))
                   for _ in range(calibration_images)]
    x = torch.from_numpy(rng.standard_normal((2, *SHAPE), np.float32))
    files, sizes = {}, {}
    for name in names:
        model = build_classifier(name)
        with torch.no_grad():
            expected = model(x).numpy()
        fp32 = osp.join(workdir, f'{name}.onnx')
        export_onnx(copy.deepcopy(model), fp32, (1, *SHAPE))
        got = open_runtime(fp32).run(dict(image=x.numpy()))[0]
        error = np.abs(got - expected).max() / np.abs(expected).max()
        if not error < 1e-3:
            raise RuntimeError(f'the ONNX file of {name} differs from its PyTorch model by '
                               f'{error:.1e} of the largest logit: its folding or export is '
                               f'wrong')
        sizes[name] = count_model(switch_to_deploy(model), (x[:1], ))
        files[name] = fp32, quantized_copies(fp32, calibration)
        print(f'{name}: {sizes[name]["gflops"]:.2f} GMACs, exported and quantised',
              flush=True)
    return files, sizes


def time_all(files: dict, rows: list, batch: int, threads: int, rounds: int) -> dict:
    """Median ms of one batch of every model, keyed ``(name, runtime, precision, batch,
    threads)``: every model of a row in one round-robin."""
    feeds = dict(image=np.random.default_rng(1).standard_normal((batch, *SHAPE), np.float32))
    found = {}
    for row in rows:
        calls = batch_calls(files, feeds, threads, [row])
        if batch == 1:
            found.update(interleaved_latency_ms(calls, rounds=rounds, per_round=1,
                                                settle=SETTLE_RUNS, settle_s=SETTLE_S))
        else:  # a batch run takes 0.1 to several s: warm after one run
            found.update(interleaved_latency_ms(calls, rounds=rounds, per_round=1, warmup=1,
                                                settle_s=SETTLE_S))
        del calls  # the runtimes' memory, before the next row's open
        print(f'timed {row} at batch {batch} on {threads} thread(s)', flush=True)
    return found


def tier_rows(names: list) -> list:
    """(tier, name) of each model of ``names``, in the order of configs/peers.yml."""
    return [(tier, name) for tier, members in tiers().items() for name in members
            if name in names]


def models_table(names: list, sizes: dict) -> list:
    lines = ['| tier | model | params (M) | GMACs | top-1 (%) | epochs | source |',
             '|---|---|---|---|---|---|---|']
    for tier, name in tier_rows(names):
        cited = cited_top1(name)
        lines.append(f'| {tier} | {label(name)} | {sizes[name]["params_m"]:.1f} | '
                     f'{sizes[name]["gflops"]:.2f} | {cited["top1"]} | '
                     f'{cited.get("epochs") or "?"} | {cited["source"]} |')
    return lines


def speed_table(names: list, rows: list, per_image: dict, batch: int, sizes: dict) -> list:
    """ms per image (batch 1) or images/s (a batch) of every model in every row; at batch 1
    also each model's achieved GMAC/s in its fastest row."""
    unit = 'ms' if batch == 1 else 'images/s'
    lines = ['| tier | model | top-1 | ' + ' | '.join(f'{r} {p} ({unit})' for r, p in rows)
             + (' | best GMAC/s |' if batch == 1 else ' |'),
             '|---|---|---|' + '---|' * (len(rows) + (batch == 1))]
    for tier, name in tier_rows(names):
        ms = [per_image[row][name] for row in rows]
        cells = [f'{m:.2f}' if batch == 1 else f'{1e3 / m:.1f}' for m in ms]
        if batch == 1:
            cells.append(f'{sizes[name]["gflops"] / min(ms) * 1e3:.1f}')
        lines.append(f'| {tier} | {label(name)} | {cited_top1(name)["top1"]} | '
                     + ' | '.join(cells) + ' |')
    return lines


def verdict_table(rows: list, per_image: dict, top1: dict) -> list:
    """For each FasterNet and row: on the front, or the peers that beat it."""
    verdicts = {row: front_verdicts(per_image[row], top1) for row in rows}
    ours = list(next(iter(verdicts.values())))
    lines = ['| runtime | precision | ' + ' | '.join(label(n) for n in ours) + ' |',
             '|---|---|' + '---|' * len(ours)]
    for row in rows:
        lines.append(f'| {row[0]} | {row[1]} | '
                     + ' | '.join(verdicts[row][n] for n in ours) + ' |')
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    every = [name for members in tiers().values() for name in members]
    parser.add_argument('--tiers', nargs='+', choices=list(tiers()), default=list(tiers()),
                        help='the accuracy tiers to time (default: all)')
    parser.add_argument('--models', nargs='+', choices=sorted(set(every)), metavar='MODEL',
                        help='time only these models of configs/peers.yml\'s tiers')
    rows = [f'{r}:{p}' for r, p in runnable_rows()]
    parser.add_argument('--rows', nargs='+', metavar='RUNTIME:PRECISION', choices=rows,
                        help='time only these runtimes and precisions (default: every one '
                        f'this machine runs: {", ".join(rows)})')
    parser.add_argument('--rounds', type=int, default=10,
                        help='round-robin rounds at batch 1')
    parser.add_argument('--batch', type=int, default=32,
                        help='batch of the throughput measure; 0 skips it')
    parser.add_argument('--batch-rounds', type=int, default=3)
    parser.add_argument('--calibration-images', type=int, default=8,
                        help='random images the int8 models are calibrated on')
    parser.add_argument('--out', default=osp.join('work_dirs', 'peers'),
                        help='folder for the results (created if needed)')
    args = parser.parse_args()
    names = list(dict.fromkeys(n for t in args.tiers for n in tiers()[t]
                               if not args.models or n in args.models))
    if not any(name.startswith('fasternet_') for name in names):
        parser.error(f'no FasterNet among the models of --tiers {" ".join(args.tiers)}'
                     + (f' and --models {" ".join(args.models)}' if args.models else '')
                     + ': give at least one FasterNet to place among its peers')
    prepare_output_folder(parser, args.out)
    rows = [tuple(r.split(':')) for r in args.rows] if args.rows else runnable_rows()
    top1 = {name: cited_top1(name)['top1'] for name in names}
    timings = {}
    with tempfile.TemporaryDirectory() as workdir:
        files, sizes = prepare(names, workdir, args.calibration_images)
        for _, _, batch, threads in measures(args.batch):
            timings.update(time_all(files, rows, batch, threads,
                                    args.rounds if batch == 1 else args.batch_rounds))

    cpu, flags = cpu_name_and_flags()
    lines = ['# FasterNet among today\'s efficient networks', '',
             f'CPU: {cpu}, {os.cpu_count()} cores; int8/bf16 instructions: '
             f'{", ".join(flags) or "none of avx512_vnni, avx512_bf16, amx_int8, amx_bf16"}. '
             f'torch {torch.__version__}. `python tools/analysis/benchmark_peers.py`: '
             f'random weights, BN folded, MobileOne and RepViT re-parameterised; every file '
             f'exported by `export_onnx` and quantised by `quantize_model` on '
             f'{args.calibration_images} random images, as FasterNet\'s; 224x224. Batch 1: '
             f'median of {args.rounds} round-robin runs; a batch: median of '
             f'{args.batch_rounds} after one warm-up. Every model of a row is timed in one '
             f'round-robin, each warm: at the start of its turn it runs untimed for '
             f'{SETTLE_S * 1e3:.0f} ms at least ({SETTLE_RUNS} runs at least at batch 1), '
             f'since ONNX Runtime\'s idle threads spin on after a run. Top-1 is cited, '
             f'not measured (configs/peers.yml): * distilled, + extra data, ^ a schedule '
             f'longer than FasterNet\'s 300 epochs.'
             + ('' if RUNTIMES['openvino'].runs_fast('bf16') else
                ' No bf16 row: this CPU has no bf16 instructions.'),
             '', '## Models', ''] + models_table(names, sizes)
    for title, stem, batch, threads in measures(args.batch):
        per_image = {row: {name: timings[(name, *row, batch, threads)] / batch
                           for name in names} for row in rows}
        panels = [(f'{r} {p}', per_image[r, p]) for r, p in rows]
        plot_front(panels, top1, f'ms per image ({title}, log scale)',
                   f'Time per image against top-1, {title}: {cpu}',
                   osp.join(args.out, f'peers_{stem}.png'))
        lines += ['', f'## {title[0].upper()}{title[1:]}', '',
                  speed_table(names, rows, per_image, batch, sizes), '',
                  'Where each FasterNet stands: on the front (no peer both faster and at '
                  'least as accurate), or the peers that beat it (like for like first):', '',
                  verdict_table(rows, per_image, top1), '',
                  f'![{title}](peers_{stem}.png)']
    lines = [line for block in lines
             for line in (block if isinstance(block, list) else [block])]
    record = benchmark_record({}, 1, timings)
    record['models'] = {name: dict(params_m=round(sizes[name]['params_m'], 2),
                                   gmacs=round(sizes[name]['gflops'], 3),
                                   top1=top1[name], flags=flag_marks(name))
                        for name in names}
    write_json_atomically(record, osp.join(args.out, 'peers.json'), indent=1)
    write_text_atomically('\n'.join(lines) + '\n', osp.join(args.out, 'peers.md'))
    print(f'wrote {args.out}/peers.md, peers.json and the plots')


if __name__ == '__main__':
    main()
