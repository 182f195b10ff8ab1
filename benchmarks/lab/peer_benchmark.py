"""FasterNet among today's efficient networks (``python -m benchmarks.benchmark_peers``):
every model of ``benchmarks/peers.yml`` deployed as FasterNet is, timed in every runtime and
precision at each measure (batch 1 on one thread and on every core, a batch on every core),
and the tables, plots and record of ``peers.md`` and ``peers.json``."""
import os
import os.path as osp
from typing import Dict, List, NamedTuple, Sequence, Tuple

import numpy as np
import torch

from mmfasternet.analysis import count_model
from mmfasternet.deploy import RUNTIMES, cpu_name_and_flags, open_runtime, switch_to_deploy
from .front import flag_marks, front_verdicts, label, plot_front
from .latency import build_classifier
from .low_precision import (SETTLE_RUNS, SETTLE_S, batch_calls, benchmark_record, deployed_files,
                            random_images, settled_latency_ms)
from .peers import cited_top1, tiers
from .report import markdown_table

SHAPE = (3, 224, 224)
Row = Tuple[str, str]


class Measure(NamedTuple):
    """One measure of the models: its title, the stem of its plot, batch and threads."""
    title: str
    stem: str
    batch: int
    threads: int


def measures(batch: int) -> List[Measure]:
    """Batch 1 on one thread and (on a machine of several) on every core, and (unless
    ``batch`` is 0) ``batch`` on every core."""
    cores = os.cpu_count()
    found = [Measure('batch 1, 1 thread', 'latency_1_thread', 1, 1)]
    if cores > 1:
        found.append(Measure(f'batch 1, {cores} threads', f'latency_{cores}_threads', 1, cores))
    if batch:
        found.append(Measure(f'batch {batch}, {cores} threads', f'throughput_batch_{batch}',
                             batch, cores))
    return found


def deployed_models(names: Sequence[str], workdir: str, calibration_images: int
                    ) -> Tuple[Dict[str, tuple], Dict[str, dict]]:
    """Each model's fp32 file and int8 models (:func:`~.low_precision.deployed_files`,
    calibrated on ``calibration_images`` random images), and its params and GMACs (BN
    folded).

    Raises:
        RuntimeError: A model's fp32 file that computes other logits than the model.
    """
    calibration = random_images(calibration_images, (1, *SHAPE), seed=0)
    x = torch.from_numpy(random_images(1, (2, *SHAPE), seed=1)[0]['image'])
    files, sizes = {}, {}
    for name in names:
        model = build_classifier(name)
        with torch.no_grad():
            expected = model(x).numpy()
        files[name] = deployed_files(model, osp.join(workdir, f'{name}.onnx'), (1, *SHAPE),
                                     calibration)
        got = open_runtime(files[name][0]).run(dict(image=x.numpy()))[0]
        error = np.abs(got - expected).max() / np.abs(expected).max()
        if not error < 1e-3:
            raise RuntimeError(f'the ONNX file of {name} differs from its PyTorch model by '
                               f'{error:.1e} of the largest logit: its folding or export is '
                               f'wrong')
        sizes[name] = count_model(switch_to_deploy(model), (x[:1], ))
        print(f'{name}: {sizes[name]["gflops"]:.2f} GMACs, exported and quantised',
              flush=True)
    return files, sizes


def time_measures(files: Dict[str, tuple], rows: Sequence[Row], found: Sequence[Measure],
                  rounds: int, batch_rounds: int) -> Dict[tuple, float]:
    """Median ms of one batch of every model at each measure, keyed ``(name, runtime,
    precision, batch, threads)``: every model of a row in one round-robin
    (:func:`~.low_precision.settled_latency_ms`) of ``rounds`` at batch 1, else of
    ``batch_rounds``."""
    timings = {}
    for measure in found:
        feeds = random_images(1, (measure.batch, *SHAPE), seed=1)[0]
        for row in rows:
            timings.update(settled_latency_ms(
                batch_calls(files, feeds, measure.threads, [row]),
                rounds if measure.batch == 1 else batch_rounds, measure.batch))
            print(f'timed {row} at batch {measure.batch} on {measure.threads} thread(s)',
                  flush=True)
    return timings


def tier_rows(names: Sequence[str]) -> List[Tuple[str, str]]:
    """(tier, name) of each model of ``names``, in the order of ``benchmarks/peers.yml``."""
    return [(tier, name) for tier, members in tiers().items() for name in members
            if name in names]


def models_table(names: Sequence[str], sizes: Dict[str, dict]) -> List[str]:
    """Each model's tier, size and cited top-1 with its training and source."""
    cells = []
    for tier, name in tier_rows(names):
        cited = cited_top1(name)
        cells.append([tier, label(name), f'{sizes[name]["params_m"]:.1f}',
                      f'{sizes[name]["gflops"]:.2f}', cited['top1'],
                      cited.get('epochs') or '?', cited['source']])
    return markdown_table(['tier', 'model', 'params (M)', 'GMACs', 'top-1 (%)', 'epochs',
                           'source'], cells)


def speed_table(names: Sequence[str], rows: Sequence[Row], per_image: Dict[Row, dict],
                batch: int, sizes: Dict[str, dict]) -> List[str]:
    """ms per image (batch 1) or images/s (a batch) of every model in every row; at batch 1
    also each model's achieved GMAC/s in its fastest row."""
    unit = 'ms' if batch == 1 else 'images/s'
    cells = []
    for tier, name in tier_rows(names):
        ms = [per_image[row][name] for row in rows]
        speeds = [f'{m:.2f}' if batch == 1 else f'{1e3 / m:.1f}' for m in ms]
        if batch == 1:
            speeds.append(f'{sizes[name]["gflops"] / min(ms) * 1e3:.1f}')
        cells.append([tier, label(name), cited_top1(name)['top1'], *speeds])
    return markdown_table(['tier', 'model', 'top-1', *(f'{r} {p} ({unit})' for r, p in rows),
                           *(['best GMAC/s'] if batch == 1 else [])], cells)


def verdict_table(rows: Sequence[Row], per_image: Dict[Row, dict],
                  top1: Dict[str, float]) -> List[str]:
    """For each FasterNet and row: on the front, or the peers that beat it."""
    verdicts = {row: front_verdicts(per_image[row], top1) for row in rows}
    ours = list(next(iter(verdicts.values())))
    return markdown_table(['runtime', 'precision', *(label(name) for name in ours)],
                          [[*row, *(verdicts[row][name] for name in ours)] for row in rows])


def measure_section(measure: Measure, names: Sequence[str], rows: Sequence[Row],
                    timings: Dict[tuple, float], sizes: Dict[str, dict], out: str) -> List[str]:
    """The section of one measure: its speed and verdict tables, and its plot, written
    into ``out`` (``peers_<stem>.png``)."""
    top1 = {name: cited_top1(name)['top1'] for name in names}
    per_image = {row: {name: timings[(name, *row, measure.batch, measure.threads)]
                       / measure.batch for name in names} for row in rows}
    plot_front([(f'{r} {p}', per_image[r, p]) for r, p in rows], top1,
               f'ms per image ({measure.title}, log scale)',
               f'Time per image against top-1, {measure.title}: {cpu_name_and_flags()[0]}',
               osp.join(out, f'peers_{measure.stem}.png'))
    return (['', f'## {measure.title[0].upper()}{measure.title[1:]}', '']
            + speed_table(names, rows, per_image, measure.batch, sizes)
            + ['', 'Where each FasterNet stands: on the front (no peer both faster and at '
               'least as accurate), or the peers that beat it (like for like first):', '']
            + verdict_table(rows, per_image, top1)
            + ['', f'![{measure.title}](peers_{measure.stem}.png)'])


def peers_note(calibration_images: int, rounds: int, batch_rounds: int) -> str:
    """How the models were deployed and timed, and what marks a cited top-1."""
    return (f'Random weights, BN folded, MobileOne and RepViT re-parameterised; every file '
            f'exported by `export_onnx` and quantised by `quantize_model` on '
            f'{calibration_images} random images, as FasterNet\'s; 224x224. Batch 1: median of '
            f'{rounds} round-robin runs; a batch: median of {batch_rounds} after one warm-up. '
            f'Every model of a row is timed in one round-robin, each warm: at the start of its '
            f'turn it runs untimed for {SETTLE_S * 1e3:.0f} ms at least ({SETTLE_RUNS} runs at '
            f'least at batch 1), since ONNX Runtime\'s idle threads spin on after a run. Top-1 '
            f'is cited, not measured (benchmarks/peers.yml): * distilled, + extra data, ^ a '
            f'schedule longer than FasterNet\'s 300 epochs.'
            + ('' if RUNTIMES['openvino'].runs_fast('bf16') else
               ' No bf16 row: this CPU has no bf16 instructions.'))


def peers_record(names: Sequence[str], sizes: Dict[str, dict],
                 timings: Dict[tuple, float]) -> dict:
    """The JSON record: the machine and every timing (:func:`~.low_precision.
    benchmark_record`), and each model's size, cited top-1 and its marks."""
    record = benchmark_record({}, 1, timings)
    record['models'] = {name: dict(params_m=round(sizes[name]['params_m'], 2),
                                   gmacs=round(sizes[name]['gflops'], 3),
                                   top1=cited_top1(name)['top1'], flags=flag_marks(name))
                        for name in names}
    return record
