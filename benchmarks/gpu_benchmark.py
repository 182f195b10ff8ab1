"""GPU throughput of FasterNet and its peers, the paper's way (batch 32, 224x224, BN folded,
warm-up, CUDA events, round-robin), in fp32, fp16 and bf16 autocast, contiguous and
channels_last; FasterNet-S against ResNet-50 as detection backbones (batch 1, 800x1333) and
as classifiers in AMP training. Writes gpu_benchmarks.md (the tables) and gpu_benchmarks.json
(every number, with the device and versions) into --out.

    python tools/analysis/gpu_benchmark.py [--out work_dirs/gpu_benchmark]
"""
import argparse
import os.path as osp
import platform
import shlex
import sys
from typing import Dict, List, Tuple

import torch

from benchmarks.lab.front import front_verdicts
from benchmarks.lab.kernel_profile import kernel_profile
from benchmarks.lab.latency import build_classifier
from benchmarks.lab.paper import paper_column
from benchmarks.lab.peers import cited_top1, tiers
from benchmarks.lab.throughput import (DETECTION_SHAPE, PRECISIONS, autocast_context, backbone_pair,
                                       in_precision, interleaved_throughput, prepare,
                                       train_step_rates)
from mmfasternet.fileio import prepare_output_folder, write_json_atomically, write_text_atomically

# Paper Tab. 3: throughput (images/s) on a 2080Ti at batch 32, by the names mmpretrain gives
# the same architectures (configs/paper.yml).
PAPER_GPU = paper_column('imagenet', 'gpu_fps')
# FasterNet and today's peers by accuracy tier (configs/peers.yml; the peers from timm).
TIER_MODELS = list(dict.fromkeys(name for names in tiers().values() for name in names))

# FasterNet against the peers that the paper compares it with on the GPU; the paper's ratio
# of each pair is PAPER_GPU[ours] / PAPER_GPU[peer].
RATIO_PAIRS = (('fasternet_s', 'resnet50_8xb32_in1k'),
               ('fasternet_t0', 'mobilenet-v2_8xb32_in1k'),
               ('fasternet_l', 'swin-base_16xb64_in1k'),
               ('fasternet_l', 'convnext-base_32xb128_in1k'))

# Classifiers of the AMP training row: FasterNet-S and ResNet-50.
TRAIN_PAIR = ('fasternet_s', 'resnet50_8xb32_in1k')

MEMORY_FORMATS = ('contiguous', 'channels_last')

Setting = Tuple[str, str]  # (precision, memory format)


def positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f'must be positive, got {value}')
    return value


def non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f'must be 0 or more, got {value}')
    return value


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--device', default='cuda',
                        help='cuda (or cuda:N) for the measurement; cpu for a smoke run')
    parser.add_argument('--models', nargs='+', default=list(PAPER_GPU),
                        choices=list(dict.fromkeys([*PAPER_GPU, *TIER_MODELS])),
                        metavar='MODEL', help=f'any of: {", ".join(PAPER_GPU)}, or a model of '
                        f'configs/peers.yml: {", ".join(TIER_MODELS)}')
    parser.add_argument('--peers', action='store_true',
                        help='also time every model of configs/peers.yml\'s tiers (today\'s '
                        'peers, from timm) and say where each FasterNet stands on the '
                        'latency-accuracy front')
    parser.add_argument('--batch', type=positive, default=32)
    parser.add_argument('--shape', type=positive, nargs=2, default=[224, 224],
                        metavar=('H', 'W'))
    parser.add_argument('--precisions', nargs='+', choices=PRECISIONS,
                        help='autocast precisions; default fp32 fp16 bf16 on CUDA, fp32 bf16 '
                        'on the CPU')
    parser.add_argument('--memory-formats', nargs='+', choices=MEMORY_FORMATS,
                        default=list(MEMORY_FORMATS))
    parser.add_argument('--rounds', type=positive, default=20,
                        help='timed round-robin rounds, one run of every model each')
    parser.add_argument('--warmup', type=non_negative, default=5,
                        help='untimed runs of every model first')
    parser.add_argument('--detection-shape', type=non_negative, nargs='+',
                        default=list(DETECTION_SHAPE), metavar='N',
                        help='H W of the backbone latency rows (batch 1); 0 skips them')
    parser.add_argument('--train-batch', type=non_negative, default=64,
                        help='batch of the AMP training row; 0 skips it')
    parser.add_argument('--profile-runs', type=non_negative, default=5,
                        help='runs profiled of each compared model in its fastest setting, '
                        'for where the time goes by kind of kernel; 0 skips it')
    parser.add_argument('--out', default=osp.join('work_dirs', 'gpu_benchmark'),
                        help='folder for gpu_benchmarks.md (created if needed)')
    args = parser.parse_args()

    try:
        args.device = torch.device(args.device)
    except RuntimeError:
        parser.error(f'--device {args.device}: not a device; give cuda, cuda:N or cpu')
    if args.device.type not in ('cpu', 'cuda'):
        parser.error(f'--device {args.device}: give cuda, cuda:N or cpu')
    if args.device.type == 'cuda' and not torch.cuda.is_available():
        parser.error(f'--device {args.device}: CUDA is not available on this machine '
                     f'(torch {torch.__version__}, built for CUDA '
                     f'{torch.version.cuda or "none"}); run on a machine with an NVIDIA GPU '
                     f'and a CUDA build of torch, or give --device cpu for a smoke run')
    if args.device.type == 'cuda' and (args.device.index or 0) >= torch.cuda.device_count():
        parser.error(f'--device {args.device}: this machine has '
                     f'{torch.cuda.device_count()} GPU(s)')
    on_cuda = args.device.type == 'cuda'
    args.precisions = args.precisions or (list(PRECISIONS) if on_cuda else ['fp32', 'bf16'])
    if args.peers:
        args.models += TIER_MODELS
    for name in ('models', 'precisions', 'memory_formats'):  # each once, in the given order
        setattr(args, name, list(dict.fromkeys(getattr(args, name))))
    args.train_precision = 'fp16' if on_cuda else 'bf16'
    for precision in [*args.precisions, args.train_precision]:
        try:
            autocast_context(precision, args.device)
        except ValueError as error:
            parser.error(f'--precisions {precision}: {error}')
    if args.detection_shape == [0]:
        args.detection_shape = None
    elif len(args.detection_shape) != 2 or 0 in args.detection_shape:
        parser.error(f'--detection-shape: give H W (both positive) or 0 to skip, got '
                     f'{" ".join(map(str, args.detection_shape))}')
    prepare_output_folder(parser, args.out)
    return args


def rate_text(rate: float) -> str:
    """Whole images/s, with 3 significant digits below 100 (CPU smoke runs)."""
    return f'{rate:.0f}' if rate >= 100 else f'{rate:.3g}'


def setting_name(setting: Setting) -> str:
    return ' '.join(setting)


def markdown_table(header: List[str], rows: List[List[str]]) -> List[str]:
    """Markdown lines of a table, printed as they are made."""
    lines = ['| ' + ' | '.join(header) + ' |', '|---' * len(header) + '|']
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    print('\n'.join(lines), flush=True)
    return lines


def round_robin(models: Dict[str, torch.nn.Module], x: torch.Tensor, args,
                settings: List[Setting]) -> Dict[Tuple[str, str, str], float]:
    """Images/s of every model in every setting: one round-robin per setting over all
    models, so that the ratios within a setting are side by side."""
    prepared = {(name, fmt): prepare(model, x, args.device, fmt == 'channels_last')
                for name, model in models.items() for fmt in args.memory_formats}
    rates = {}
    for precision, fmt in settings:
        calls = {}
        for name in models:
            model, inputs = prepared[name, fmt]
            calls[name] = in_precision(model, precision, args.device), inputs
        measured = interleaved_throughput(calls, x.shape[0], args.rounds, args.warmup,
                                          args.device)
        print(f'{precision} {fmt}: ' + ', '.join(f'{name} {rate_text(rate)} img/s'
                                                 for name, rate in measured.items()),
              flush=True)
        rates.update({(name, precision, fmt): rate for name, rate in measured.items()})
    return rates


def classifier_tables(args, settings: List[Setting], record: dict) -> List[str]:
    """Throughput of every model in every setting, and FasterNet's ratios to its peers
    (both also into ``record``)."""
    x = torch.randn(args.batch, 3, *args.shape)
    rates = round_robin({name: build_classifier(name) for name in args.models}, x, args,
                        settings)
    best = {name: max(rates[(name, *s)] for s in settings) for name in args.models}
    record['classifiers'] = {
        name: dict({setting_name(s): rates[(name, *s)] for s in settings}, best=best[name],
                   paper_2080ti=PAPER_GPU.get(name)) for name in args.models}
    lines = markdown_table(
        ['model'] + [f'{setting_name(s)} (img/s)' for s in settings]
        + ['best (img/s)', 'paper 2080Ti (img/s)'],
        [[name] + [rate_text(rates[(name, *s)]) for s in settings]
         + [rate_text(best[name]), str(PAPER_GPU.get(name, '—'))] for name in args.models])
    ranked = [name for name in args.models if name in TIER_MODELS]
    if any(not name.startswith('fasternet_') for name in ranked):
        ms = {name: 1e3 / best[name] for name in ranked}
        verdicts = front_verdicts(ms, {name: cited_top1(name)['top1'] for name in ranked})
        record['front'] = verdicts
        lines += ['', 'Where each FasterNet stands among the models of configs/peers.yml, each '
                  'in its fastest setting, by time per image and cited top-1: on the front (no '
                  'peer both faster and at least as accurate), or the peers that beat it:', '']
        lines += markdown_table(['FasterNet', 'verdict'], [[name, verdict] for name, verdict
                                                           in verdicts.items()])
    pairs = [(ours, peer) for ours, peer in RATIO_PAIRS
             if ours in args.models and peer in args.models]
    if not pairs:
        return lines
    rows, record['ratios'] = [], {}
    for ours, peer in pairs:
        paper = PAPER_GPU[ours] / PAPER_GPU[peer]
        record['ratios'][f'{ours} / {peer}'] = dict(
            {setting_name(s): rates[(ours, *s)] / rates[(peer, *s)] for s in settings},
            best=best[ours] / best[peer], paper_2080ti=paper)
        rows.append([f'{ours} / {peer}']
                    + [f'{rates[(ours, *s)] / rates[(peer, *s)]:.2f}' for s in settings]
                    + [f'{best[ours] / best[peer]:.2f}', f'{paper:.2f}',
                       'yes' if best[ours] / best[peer] >= paper else 'no'])
    lines += ['', 'FasterNet\'s throughput over its peer\'s, per setting and with each model '
              'in its fastest setting ("best"), against the paper\'s 2080Ti ratio:', '']
    lines += markdown_table(['pair'] + [setting_name(s) for s in settings]
                            + ['best', 'paper', 'paper ratio reached'], rows)
    return lines


def profile_tables(args, settings: List[Setting], record: dict) -> List[str]:
    """Where the time goes: each model of :data:`RATIO_PAIRS` profiled by kind of kernel in
    the setting it is fastest in (also into ``record``)."""
    rates = record['classifiers']
    best = {name: max(settings, key=lambda s: rates[name][setting_name(s)]) for name in rates}
    names = list(dict.fromkeys(name for pair in RATIO_PAIRS for name in pair
                               if all(n in args.models for n in pair)))
    x = torch.randn(args.batch, 3, *args.shape)
    profiles = record['profiles'] = {}
    for name in names:
        precision, fmt = best[name]
        model, inputs = prepare(build_classifier(name), x, args.device, fmt == 'channels_last')
        with torch.no_grad():
            profiles[name] = dict(kernel_profile(in_precision(model, precision, args.device),
                                                 inputs, args.profile_runs),
                                  setting=setting_name(best[name]))
    kinds = list(profiles[names[0]]['kinds']) if names else []
    lines = markdown_table(
        ['model', 'setting', 'ms per batch'] + kinds,
        [[name, p['setting'], f'{p["ms"]:.2f}'] + [f'{100 * p["kinds"][k]:.0f}%' for k in kinds]
         for name, p in profiles.items()])
    for name in names:
        if name.startswith('fasternet_'):
            lines += ['', f'Longest kernels of {name}:', ''] + markdown_table(
                ['kernel', 'ms per batch', 'share'],
                [[f'`{kernel[:90]}`', f'{ms:.3f}', f'{100 * share:.1f}%']
                 for kernel, ms, share in profiles[name]['top']])
    return lines


def backbone_table(args, settings: List[Setting], record: dict) -> List[str]:
    """Batch-1 latency of the FasterNet-S and ResNet-50 backbones at the detection shape
    (also into ``record``, in ms)."""
    backbones = backbone_pair()
    x = torch.randn(1, 3, *args.detection_shape)
    latency = {key: 1e3 / rate
               for key, rate in round_robin(backbones, x, args, settings).items()}
    record['detection_backbones_ms'] = {
        name: {setting_name(s): latency[(name, *s)] for s in settings} for name in backbones}
    h, w = args.detection_shape
    rows = [[name, f'{w}x{h}'] + [f'{latency[(name, *s)]:.2f}' for s in settings]
            for name in backbones]
    rows.append(['FasterNet-S / ResNet-50', f'{w}x{h}'] + [
        f'{latency[("FasterNet-S", *s)] / latency[("ResNet-50", *s)]:.2f}'
        for s in settings])
    return markdown_table(['backbone', 'input'] + [f'{setting_name(s)} (ms)'
                                                   for s in settings], rows)


def training_table(args, record: dict) -> List[str]:
    """Training images/s of the FasterNet-S and ResNet-50 classifiers in AMP (also into
    ``record``)."""
    rates = train_step_rates({name: build_classifier(name).model for name in TRAIN_PAIR},
                             args.train_batch, tuple(args.shape), args.device,
                             args.train_precision, args.rounds, args.warmup)
    record['amp_training'] = dict(rates, batch=args.train_batch,
                                  autocast=args.train_precision)
    ours, peer = TRAIN_PAIR
    rows = [[name, str(args.train_batch), args.train_precision, rate_text(rate)]
            for name, rate in rates.items()]
    rows.append([f'{ours} / {peer}', str(args.train_batch), args.train_precision,
                 f'{rates[ours] / rates[peer]:.2f}'])
    return markdown_table(['classifier', 'batch', 'autocast', 'train img/s'], rows)


def device_name(device: torch.device) -> str:
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    return f'CPU {platform.processor() or platform.machine()}'


def main() -> None:
    args = parse_args()
    on_cuda = args.device.type == 'cuda'
    if on_cuda:
        torch.backends.cudnn.benchmark = True  # tuned during the warm-up runs
    settings = [(p, f) for p in args.precisions for f in args.memory_formats]
    h, w = args.shape
    command = shlex.join(['python', 'tools/analysis/gpu_benchmark.py', *sys.argv[1:]])
    record = dict(command=command, device=device_name(args.device), torch=torch.__version__,
                  cuda=torch.version.cuda if on_cuda else None,
                  cudnn=torch.backends.cudnn.version() if on_cuda else None,
                  batch=args.batch, shape=[h, w], rounds=args.rounds, warmup=args.warmup)
    lines = [
        '# GPU benchmark', '',
        f'`{command}`', '',
        f'- device: {device_name(args.device)}',
        f'- torch {torch.__version__}, cuDNN {torch.backends.cudnn.version() or "none"}'
        + (f', CUDA {torch.version.cuda}, cudnn.benchmark on, TF32 convs '
           f'{torch.backends.cudnn.allow_tf32}, TF32 matmuls '
           f'{torch.backends.cuda.matmul.allow_tf32}' if on_cuda else ''),
        f'- batch {args.batch}, {w}x{h}, BN folded (`mmfasternet.deploy.switch_to_deploy`), '
        f'{args.warmup} warm-up runs per model, then the median of {args.rounds} runs taken '
        f'round-robin (one run of each model in turn) per setting, timed with '
        + ('CUDA events' if on_cuda else '`time.perf_counter`'),
        '- settings: autocast precision (fp32 = none) and memory format of weights and '
        'input; peers are architectures without weights: the paper\'s from mmpretrain, '
        'configs/peers.yml\'s from timm (re-parameterised)',
        '', '## Classifiers', ''] + classifier_tables(args, settings, record)
    if args.profile_runs and any(all(n in args.models for n in pair) for pair in RATIO_PAIRS):
        lines += ['', '## Where the time goes', '',
                  f'Each compared model in the setting it is fastest in, over '
                  f'{args.profile_runs} profiled runs (`torch.profiler`: '
                  + ('CUDA kernels\' device time' if on_cuda else 'operators\' own CPU time')
                  + '), by kind of kernel (`mmfasternet.analysis.kernel_profile`): '
                  'memory-format conversions, concatenation and copies (PConv\'s split and '
                  'concat), convolutions and matrix products, element-wise kernels:', '']
        lines += profile_tables(args, settings, record)
    if args.detection_shape:
        dh, dw = args.detection_shape
        lines += ['', '## Detection backbones', '',
                  f'Batch-1 latency (ms) of the backbones alone at {dw}x{dh}, all four stage '
                  f'outputs (paper Tab. 4 compares whole Mask R-CNNs), BN folded, '
                  f'round-robin per setting; the last row is FasterNet-S\'s latency over '
                  f'ResNet-50\'s (below 1: FasterNet-S is faster):', '']
        lines += backbone_table(args, settings, record)
    if args.train_batch:
        lines += ['', '## AMP training', '',
                  f'Training steps (forward, cross-entropy on random labels, backward, SGD; '
                  f'BN not folded, contiguous) of the classifiers at batch {args.train_batch}, '
                  f'{w}x{h}, {args.train_precision} autocast'
                  + (' with a gradient scaler' if args.train_precision == 'fp16' else '')
                  + f', median of {args.rounds} round-robin steps after {args.warmup} '
                  f'warm-up steps; the last row is FasterNet-S\'s rate over ResNet-50\'s:',
                  ''] + training_table(args, record)
    path = osp.join(args.out, 'gpu_benchmarks.md')
    write_text_atomically('\n'.join(lines) + '\n', path)
    write_json_atomically(record, osp.join(args.out, 'gpu_benchmarks.json'), indent=1)
    print(f'wrote {path} and gpu_benchmarks.json')


if __name__ == '__main__':
    main()
