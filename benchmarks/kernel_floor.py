"""How close FasterNet's deploy form runs to its kernels: each model's latency over that of
its kernel floor (its convs alone, at its own shapes, as chains of plain convs with the same
multiply-adds: mmfasternet.analysis.kernel_floor), both exported, quantised and timed the
same way in every runtime and precision, side by side in one round-robin per row; and the
per-operator profile of both, which says what fills the gap. Writes kernel_floor.md and
kernel_floor.json into --out (this project's own results are in docs/results/).

    python tools/analysis/kernel_floor.py [--models fasternet_t0 fasternet_s]
        [--out work_dirs/kernel_floor]
"""
import argparse
import copy
import os
import os.path as osp
import tempfile

import numpy as np
import torch

from benchmarks.lab.kernel_floor import conv_shapes, floor_feeds, floor_onnx
from benchmarks.lab.latency import build_classifier, interleaved_latency_ms
from benchmarks.lab.low_precision import (SETTLE_RUNS, SETTLE_S, profile_row, quantized_copies,
                                          runnable_rows, runtime_calls)
from mmfasternet.deploy import export_onnx, switch_to_deploy
from mmfasternet.deploy.runtimes import cpu_name_and_flags
from mmfasternet.deploy.runtimes.base import write_onnx
from mmfasternet.fileio import prepare_output_folder, write_json_atomically, write_text_atomically

SHAPE = (1, 3, 224, 224)
PROFILE_SHARE = 0.02  # profile rows below this share of both models' time are summed up


def prepare(name: str, workdir: str, calibration_images: int) -> dict:
    """The model's and its floor's fp32 files, int8 models and feeds."""
    model = switch_to_deploy(build_classifier(name))
    rng = np.random.default_rng(0)
    found = {}
    fp32 = osp.join(workdir, f'{name}.onnx')
    export_onnx(copy.deepcopy(model), fp32, SHAPE)
    calibration = [dict(image=rng.standard_normal(SHAPE, np.float32))
                   for _ in range(calibration_images)]
    found[name] = fp32, quantized_copies(fp32, calibration), dict(image=calibration[0]['image'])
    proto = floor_onnx(conv_shapes(model, torch.from_numpy(calibration[0]['image'])))
    floor = osp.join(workdir, f'{name}_floor.onnx')
    write_onnx(proto, floor)
    calibration = [floor_feeds(proto, seed=i) for i in range(calibration_images)]
    found[f'{name} floor'] = floor, quantized_copies(floor, calibration), calibration[0]
    return found


def profile_lines(model: dict, floor: dict) -> list:
    """The per-operator profile of a model beside its floor's: ms per run of each kind,
    the largest first; kinds under :data:`PROFILE_SHARE` of both totals summed in one."""
    total_model, total_floor = (sum(ms for ms, _ in p.values()) for p in (model, floor))
    kinds = sorted(set(model) | set(floor),
                   key=lambda k: -max(model.get(k, (0, 0))[0], floor.get(k, (0, 0))[0]))
    lines = ['| operator (kernel) | model ms | floor ms |', '|---|---|---|']
    rest = [0.0, 0.0]
    for kind in kinds:
        ms = model.get(kind, (0, 0))[0], floor.get(kind, (0, 0))[0]
        if ms[0] < PROFILE_SHARE * total_model and ms[1] < PROFILE_SHARE * total_floor:
            rest = [rest[0] + ms[0], rest[1] + ms[1]]
            continue
        lines.append(f'| {kind} | {ms[0]:.3f} | {ms[1]:.3f} |')
    lines += [f'| the rest | {rest[0]:.3f} | {rest[1]:.3f} |',
              f'| **total** | **{total_model:.3f}** | **{total_floor:.3f}** |']
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--models', nargs='+', default=['fasternet_t0', 'fasternet_s'],
                        choices=[f'fasternet_{a}' for a in ('t0', 't1', 't2', 's', 'm', 'l')])
    parser.add_argument('--rows', nargs='+', metavar='RUNTIME:PRECISION',
                        choices=[f'{r}:{p}' for r, p in runnable_rows()],
                        help='time only these runtimes and precisions (default: all)')
    parser.add_argument('--rounds', type=int, default=20)
    parser.add_argument('--profile-runs', type=int, default=20)
    parser.add_argument('--calibration-images', type=int, default=8)
    parser.add_argument('--out', default=osp.join('work_dirs', 'kernel_floor'),
                        help='folder for the results (created if needed)')
    args = parser.parse_args()
    prepare_output_folder(parser, args.out)
    rows = [tuple(r.split(':')) for r in args.rows] if args.rows else runnable_rows()
    thread_counts = sorted({1, os.cpu_count()})
    latency, profiles = {}, {}
    with tempfile.TemporaryDirectory() as workdir:
        files = {}
        for name in args.models:
            files.update(prepare(name, workdir, args.calibration_images))
        for row in rows:
            for threads in thread_counts:
                calls = {}
                for key, (fp32, int8, feeds) in files.items():
                    calls.update({(*k, threads): call for k, call in runtime_calls(
                        key, fp32, int8, feeds, threads, [row]).items()})
                latency.update(interleaved_latency_ms(calls, rounds=args.rounds, per_round=1,
                                                      settle=SETTLE_RUNS, settle_s=SETTLE_S))
                del calls
            for key, (fp32, int8, feeds) in files.items():
                profiles[(key, *row)] = profile_row(fp32, int8, *row, feeds,
                                                    args.profile_runs)
            print(f'timed and profiled {row}', flush=True)

    cpu, flags = cpu_name_and_flags()
    lines = ['# FasterNet against its kernel floor', '',
             f'CPU: {cpu}, {os.cpu_count()} cores; int8/bf16 instructions: '
             f'{", ".join(flags) or "none"}. torch {torch.__version__}. '
             f'`python tools/analysis/kernel_floor.py`: each model\'s file as deployment '
             f'writes it (BN folded, `export_onnx`, `quantize_model` on '
             f'{args.calibration_images} random images) and its kernel floor (every conv of '
             f'the model at its own shape, as chains of plain convs with the same '
             f'multiply-adds: `mmfasternet.analysis.kernel_floor`), quantised the same way. '
             f'Batch 1, 224x224; median of {args.rounds} round-robin runs, model and floor '
             f'side by side, each warm (untimed runs at the start of its turn: {SETTLE_RUNS}, '
             f'and at least {SETTLE_S * 1e3:.0f} ms of them, since ONNX Runtime\'s idle '
             f'threads spin on).', '',
             '| runtime | precision | threads | '
             + ' | '.join(f'{n} ms | floor ms | multiple' for n in args.models) + ' |',
             '|---|---|---|' + '---|---|---|' * len(args.models)]
    for row in rows:
        for threads in thread_counts:
            cells = []
            for name in args.models:
                ms = latency[(name, *row, threads)]
                floor = latency[(f'{name} floor', *row, threads)]
                cells.append(f'{ms:.2f} | {floor:.2f} | {ms / floor:.2f}')
            lines.append(f'| {row[0]} | {row[1]} | {threads} | ' + ' | '.join(cells) + ' |')
    lines += ['', f'Where the time goes: per-operator profiles, one thread, mean of '
              f'{args.profile_runs} runs (profiling adds a little to each operator).']
    for name in args.models:
        for row in rows:
            lines += ['', f'### {name}, {row[0]} {row[1]}', ''] + profile_lines(
                profiles[(name, *row)], profiles[(f'{name} floor', *row)])
    record = dict(cpu=cpu, flags=flags, rows=[
        dict(model=key, runtime=runtime, precision=precision, batch=1, threads=threads,
             median_ms=round(ms, 3))
        for (key, runtime, precision, threads), ms in latency.items()])
    write_json_atomically(record, osp.join(args.out, 'kernel_floor.json'), indent=1)
    write_text_atomically('\n'.join(lines) + '\n', osp.join(args.out, 'kernel_floor.md'))
    print(f'wrote {args.out}/kernel_floor.md and kernel_floor.json')


if __name__ == '__main__':
    main()
