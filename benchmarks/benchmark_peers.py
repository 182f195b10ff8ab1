"""FasterNet among today's efficient networks (benchmarks/peers.yml, built from timm): every
model exported, BN folded, and quantised as deployment does, then timed in every runtime and
precision (ONNX Runtime fp32/int8, OpenVINO fp32/bf16/int8) at batch 1 on one thread and on
all cores, and at batch 32 on all cores; every model of a row in one round-robin. Writes
peers.md (the tables and which FasterNet is on the latency-accuracy front of each path),
peers.json and one plot per measure into --out (this project's own results are in
benchmarks/results/).

    python -m benchmarks.benchmark_peers [--out work_dirs/peers] [--tiers T0 S]
        [--models fasternet_t0 lcnet_100] [--rows onnxruntime:fp32 openvino:int8]
"""
import argparse
import os.path as osp
import tempfile

from benchmarks.lab.low_precision import runnable_rows
from benchmarks.lab.peer_benchmark import (deployed_models, measure_section, measures, models_table,
                                           peers_note, peers_record, time_measures)
from benchmarks.lab.peers import tiers
from benchmarks.lab.report import header, write_results
from mmfasternet.fileio import prepare_output_folder


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    every = [name for members in tiers().values() for name in members]
    parser.add_argument('--tiers', nargs='+', choices=list(tiers()), default=list(tiers()),
                        help='the accuracy tiers to time (default: all)')
    parser.add_argument('--models', nargs='+', choices=sorted(set(every)), metavar='MODEL',
                        help='time only these models of benchmarks/peers.yml\'s tiers')
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
    args.names = list(dict.fromkeys(n for t in args.tiers for n in tiers()[t]
                                    if not args.models or n in args.models))
    if not any(name.startswith('fasternet_') for name in args.names):
        parser.error(f'no FasterNet among the models of --tiers {" ".join(args.tiers)}'
                     + (f' and --models {" ".join(args.models)}' if args.models else '')
                     + ': give at least one FasterNet to place among its peers')
    args.rows = [tuple(r.split(':')) for r in args.rows] if args.rows else runnable_rows()
    prepare_output_folder(parser, args.out)
    return args


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        files, sizes = deployed_models(args.names, workdir, args.calibration_images)
        timings = time_measures(files, args.rows, measures(args.batch), args.rounds,
                                args.batch_rounds)
    lines = header('FasterNet among today\'s efficient networks', 'benchmarks.benchmark_peers',
                   peers_note(args.calibration_images, args.rounds, args.batch_rounds))
    lines += ['## Models', ''] + models_table(args.names, sizes)
    for measure in measures(args.batch):
        lines += measure_section(measure, args.names, args.rows, timings, sizes, args.out)
    write_results(lines, osp.join(args.out, 'peers.md'),
                  peers_record(args.names, sizes, timings), osp.join(args.out, 'peers.json'))


if __name__ == '__main__':
    main()
