"""The GPU benchmark (``python -m benchmarks.gpu_benchmark``): every classifier in every
setting, round-robin (:mod:`.throughput`), FasterNet's ratios to its peers against the
paper's and its place on the latency-accuracy front (:mod:`.front`), where the time goes
(:mod:`.kernel_profile`), the detection backbones and AMP training. Each table is printed as
it is made; every number also goes into a record, unrounded."""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from . import report
from .front import front_verdicts
from .kernel_profile import kernel_profile
from .latency import build_classifier
from .paper import paper_column
from .peers import cited_top1, tiers
from .throughput import (backbone_pair, in_precision, interleaved_throughput, prepare,
                         train_step_rates)

MODULE = 'benchmarks.gpu_benchmark'

# Paper Tab. 3: throughput (images/s) on a 2080Ti at batch 32, by the names mmpretrain gives
# the same architectures (configs/paper.yml).
PAPER_GPU = paper_column('imagenet', 'gpu_fps')
# FasterNet and today's peers by accuracy tier (benchmarks/peers.yml; the peers from timm).
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
Rates = Dict[Tuple[str, str, str], float]  # (model, precision, memory format) to images/s


@dataclass(frozen=True)
class GpuRun:
    """What one run of the GPU benchmark measures.

    Args:
        device (torch.device): A CUDA device, or the CPU for a smoke run.
        models (list[str]): The classifiers (:func:`.latency.build_classifier`), each once.
        batch (int): Images per classifier run.
        shape (tuple): Input height and width of the classifiers and of AMP training.
        precisions (list[str]): Autocast precisions (:data:`.throughput.PRECISIONS`).
        memory_formats (list[str]): Of :data:`MEMORY_FORMATS`; a setting is a precision in a
            memory format.
        rounds (int): Timed round-robin rounds, one run of every model each.
        warmup (int): Untimed runs of every model first.
        detection_shape (tuple, optional): Height and width of the batch-1 backbone rows;
            None skips them.
        train_batch (int): Batch of the AMP training row; 0 skips it.
        profile_runs (int): Profiled runs of each compared model; 0 skips them.
    """
    device: torch.device
    models: List[str]
    batch: int
    shape: Tuple[int, int]
    precisions: List[str]
    memory_formats: List[str]
    rounds: int
    warmup: int
    detection_shape: Optional[Tuple[int, int]]
    train_batch: int
    profile_runs: int

    @property
    def on_cuda(self) -> bool:
        return self.device.type == 'cuda'

    @property
    def train_precision(self) -> str:
        """fp16 with a gradient scaler on CUDA; bf16 on the CPU, which has no fp16 autocast."""
        return 'fp16' if self.on_cuda else 'bf16'

    @property
    def settings(self) -> List[Setting]:
        return [(p, f) for p in self.precisions for f in self.memory_formats]


def rate_text(rate: float) -> str:
    """Whole images/s, with 3 significant digits below 100 (CPU smoke runs)."""
    return f'{rate:.0f}' if rate >= 100 else f'{rate:.3g}'


def setting_name(setting: Setting) -> str:
    return ' '.join(setting)


def table(header_row: Sequence[str], rows: Sequence[Sequence[str]]) -> List[str]:
    """:func:`.report.markdown_table`, printed as it is made."""
    lines = report.markdown_table(header_row, rows)
    print('\n'.join(lines), flush=True)
    return lines


def device_name(device: torch.device) -> str:
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    return f'CPU {report.machine()}'


def round_robin(models: Dict[str, torch.nn.Module], x: torch.Tensor, run: GpuRun) -> Rates:
    """Images/s of every model in every setting of ``run``: one round-robin per setting over
    all models, so that the ratios within a setting are side by side."""
    prepared = {(name, fmt): prepare(model, x, run.device, fmt == 'channels_last')
                for name, model in models.items() for fmt in run.memory_formats}
    rates = {}
    for precision, fmt in run.settings:
        calls = {}
        for name in models:
            model, inputs = prepared[name, fmt]
            calls[name] = in_precision(model, precision, run.device), inputs
        measured = interleaved_throughput(calls, x.shape[0], run.rounds, run.warmup,
                                          run.device)
        print(f'{precision} {fmt}: ' + ', '.join(f'{name} {rate_text(rate)} img/s'
                                                 for name, rate in measured.items()),
              flush=True)
        rates.update({(name, precision, fmt): rate for name, rate in measured.items()})
    return rates


def classifier_tables(rates: Rates, models: Sequence[str], settings: Sequence[Setting],
                      record: dict) -> List[str]:
    """The throughput table of ``models`` in ``settings``; where peers of
    ``benchmarks/peers.yml`` are among them, where each FasterNet stands on the
    latency-accuracy front; and FasterNet's ratios to the peers of :data:`RATIO_PAIRS`
    present, each against the paper's (all also into ``record``)."""
    best = {name: max(rates[(name, *s)] for s in settings) for name in models}
    record['classifiers'] = {
        name: dict({setting_name(s): rates[(name, *s)] for s in settings}, best=best[name],
                   paper_2080ti=PAPER_GPU.get(name)) for name in models}
    lines = table(
        ['model'] + [f'{setting_name(s)} (img/s)' for s in settings]
        + ['best (img/s)', 'paper 2080Ti (img/s)'],
        [[name] + [rate_text(rates[(name, *s)]) for s in settings]
         + [rate_text(best[name]), str(PAPER_GPU.get(name, '—'))] for name in models])
    ranked = [name for name in models if name in TIER_MODELS]
    if any(not name.startswith('fasternet_') for name in ranked):
        ms = {name: 1e3 / best[name] for name in ranked}
        verdicts = front_verdicts(ms, {name: cited_top1(name)['top1'] for name in ranked})
        record['front'] = verdicts
        lines += ['', 'Where each FasterNet stands among the models of benchmarks/peers.yml, '
                  'each in its fastest setting, by time per image and cited top-1: on the front '
                  '(no peer both faster and at least as accurate), or the peers that beat it:',
                  '']
        lines += table(['FasterNet', 'verdict'], [[name, verdict]
                                                  for name, verdict in verdicts.items()])
    pairs = [(ours, peer) for ours, peer in RATIO_PAIRS if ours in models and peer in models]
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
    lines += table(['pair'] + [setting_name(s) for s in settings]
                   + ['best', 'paper', 'paper ratio reached'], rows)
    return lines


def profile_section(run: GpuRun, record: dict) -> List[str]:
    """Where the time goes: each model of :data:`RATIO_PAIRS` profiled by kind of kernel in
    the setting it is fastest in (``record['classifiers']``; also into ``record``)."""
    rates = record['classifiers']
    best = {name: max(run.settings, key=lambda s: rates[name][setting_name(s)])
            for name in rates}
    names = list(dict.fromkeys(name for pair in RATIO_PAIRS for name in pair
                               if all(n in run.models for n in pair)))
    x = torch.randn(run.batch, 3, *run.shape)
    profiles = record['profiles'] = {}
    for name in names:
        precision, fmt = best[name]
        model, inputs = prepare(build_classifier(name), x, run.device, fmt == 'channels_last')
        with torch.no_grad():
            profiles[name] = dict(kernel_profile(in_precision(model, precision, run.device),
                                                 inputs, run.profile_runs),
                                  setting=setting_name(best[name]))
    kinds = list(profiles[names[0]]['kinds']) if names else []
    lines = ['', '## Where the time goes', '',
             f'Each compared model in the setting it is fastest in, over {run.profile_runs} '
             f'profiled runs (`torch.profiler`: '
             + ('CUDA kernels\' device time' if run.on_cuda else 'operators\' own CPU time')
             + '), by kind of kernel (`benchmarks.lab.kernel_profile`): memory-format '
             'conversions, concatenation and copies (PConv\'s split and concat), convolutions '
             'and matrix products, element-wise kernels:', '']
    lines += table(
        ['model', 'setting', 'ms per batch'] + kinds,
        [[name, p['setting'], f'{p["ms"]:.2f}'] + [f'{100 * p["kinds"][k]:.0f}%' for k in kinds]
         for name, p in profiles.items()])
    for name in names:
        if name.startswith('fasternet_'):
            lines += ['', f'Longest kernels of {name}:', ''] + table(
                ['kernel', 'ms per batch', 'share'],
                [[f'`{kernel[:90]}`', f'{ms:.3f}', f'{100 * share:.1f}%']
                 for kernel, ms, share in profiles[name]['top']])
    return lines


def backbone_section(run: GpuRun, record: dict) -> List[str]:
    """Batch-1 latency of the FasterNet-S and ResNet-50 backbones at the detection shape
    (also into ``record``, in ms)."""
    backbones = backbone_pair()
    x = torch.randn(1, 3, *run.detection_shape)
    latency = {key: 1e3 / rate for key, rate in round_robin(backbones, x, run).items()}
    record['detection_backbones_ms'] = {
        name: {setting_name(s): latency[(name, *s)] for s in run.settings}
        for name in backbones}
    h, w = run.detection_shape
    rows = [[name, f'{w}x{h}'] + [f'{latency[(name, *s)]:.2f}' for s in run.settings]
            for name in backbones]
    rows.append(['FasterNet-S / ResNet-50', f'{w}x{h}'] + [
        f'{latency[("FasterNet-S", *s)] / latency[("ResNet-50", *s)]:.2f}'
        for s in run.settings])
    return ['', '## Detection backbones', '',
            f'Batch-1 latency (ms) of the backbones alone at {w}x{h}, all four stage outputs '
            f'(paper Tab. 4 compares whole Mask R-CNNs), BN folded, round-robin per setting; '
            f'the last row is FasterNet-S\'s latency over ResNet-50\'s (below 1: FasterNet-S '
            f'is faster):', ''] + table(
                ['backbone', 'input'] + [f'{setting_name(s)} (ms)' for s in run.settings], rows)


def training_section(run: GpuRun, record: dict) -> List[str]:
    """Training images/s of the FasterNet-S and ResNet-50 classifiers in AMP (also into
    ``record``)."""
    precision = run.train_precision
    rates = train_step_rates({name: build_classifier(name).model for name in TRAIN_PAIR},
                             run.train_batch, tuple(run.shape), run.device, precision,
                             run.rounds, run.warmup)
    record['amp_training'] = dict(rates, batch=run.train_batch, autocast=precision)
    ours, peer = TRAIN_PAIR
    rows = [[name, str(run.train_batch), precision, rate_text(rate)]
            for name, rate in rates.items()]
    rows.append([f'{ours} / {peer}', str(run.train_batch), precision,
                 f'{rates[ours] / rates[peer]:.2f}'])
    h, w = run.shape
    return ['', '## AMP training', '',
            f'Training steps (forward, cross-entropy on random labels, backward, SGD; BN not '
            f'folded, contiguous) of the classifiers at batch {run.train_batch}, {w}x{h}, '
            f'{precision} autocast' + (' with a gradient scaler' if precision == 'fp16' else '')
            + f', median of {run.rounds} round-robin steps after {run.warmup} warm-up steps; '
            f'the last row is FasterNet-S\'s rate over ResNet-50\'s:', ''] + table(
                ['classifier', 'batch', 'autocast', 'train img/s'], rows)


def gpu_benchmark(run: GpuRun) -> Tuple[List[str], dict]:
    """Measure what ``run`` asks for.

    Returns:
        tuple: The lines of the markdown file (the command, the device and the protocol,
        then a section per measurement) and the record of every number, the device and
        the versions.
    """
    if run.on_cuda:
        torch.backends.cudnn.benchmark = True  # tuned during the warm-up runs
    h, w = run.shape
    command, device = report.command(MODULE), device_name(run.device)
    record = dict(command=command, device=device, torch=torch.__version__,
                  cuda=torch.version.cuda if run.on_cuda else None,
                  cudnn=torch.backends.cudnn.version() if run.on_cuda else None,
                  batch=run.batch, shape=[h, w], rounds=run.rounds, warmup=run.warmup)
    lines = [
        '# GPU benchmark', '', f'`{command}`', '', f'- device: {device}',
        f'- torch {torch.__version__}, cuDNN {torch.backends.cudnn.version() or "none"}'
        + (f', CUDA {torch.version.cuda}, cudnn.benchmark on, TF32 convs '
           f'{torch.backends.cudnn.allow_tf32}, TF32 matmuls '
           f'{torch.backends.cuda.matmul.allow_tf32}' if run.on_cuda else ''),
        f'- batch {run.batch}, {w}x{h}, BN folded (`mmfasternet.deploy.switch_to_deploy`), '
        f'{run.warmup} warm-up runs per model, then the median of {run.rounds} runs taken '
        f'round-robin (one run of each model in turn) per setting, timed with '
        + ('CUDA events' if run.on_cuda else '`time.perf_counter`'),
        '- settings: autocast precision (fp32 = none) and memory format of weights and '
        'input; peers are architectures without weights: the paper\'s from mmpretrain, '
        'benchmarks/peers.yml\'s from timm (re-parameterised)', '', '## Classifiers', '']
    x = torch.randn(run.batch, 3, h, w)
    rates = round_robin({name: build_classifier(name) for name in run.models}, x, run)
    lines += classifier_tables(rates, run.models, run.settings, record)
    if run.profile_runs and any(all(n in run.models for n in pair) for pair in RATIO_PAIRS):
        lines += profile_section(run, record)
    if run.detection_shape:
        lines += backbone_section(run, record)
    if run.train_batch:
        lines += training_section(run, record)
    return lines, record
