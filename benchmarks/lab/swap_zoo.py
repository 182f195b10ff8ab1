"""How far :func:`~mmfasternet.models.backbone_swap.swap_in_fasternet` reaches in the model
zoos of the installed libraries: each config is built and run once as it is (the control)
and once with FasterNet swapped in, on a small synthetic batch on the CPU, in a forked
process of its own with a time limit; its record says how far it got, and the tables count
the records by library and family."""
import copy
import datetime
import fnmatch
import glob
import importlib
import multiprocessing
import os
import os.path as osp
import time
import traceback
from collections import Counter, defaultdict
from multiprocessing.connection import wait
from typing import Callable, List, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import MODELS, init_default_scope
from mmengine.structures import PixelData

from benchmarks.lab import report
from mmfasternet.models.backbone_swap import UnsupportedSwap, swap_in_fasternet

LIBRARIES = ('mmdet', 'mmseg', 'mmpose', 'mmyolo')
ARCH = 't0'
STATUSES = ('not a candidate', 'control fails', 'works', 'refused', 'swap crashes',
            'build fails', 'forward fails')
# The step a worker was in when it stopped without a result: the status that it earns.
STEP_STATUS = {'control': 'control fails', 'swap': 'swap crashes', 'build': 'build fails',
               'forward': 'forward fails'}
# The side of the square inputs (DINO's 900 queries need 256); mmpose's are its codec's size.
SIDES = dict(mmdet=256, mmyolo=256, mmseg=128)


def configs_root(library: str) -> str:
    """The folder of ``library``'s configs: its ``.mim/configs``."""
    return osp.join(osp.dirname(importlib.import_module(library).__file__), '.mim', 'configs')


def library_configs(library: str) -> List[str]:
    """The config paths of ``library``, relative to its configs' root, ``_base_`` folders
    left out, sorted."""
    root = configs_root(library)
    paths = glob.glob(osp.join(root, '**', '*.py'), recursive=True)
    return sorted(osp.relpath(p, root) for p in paths
                  if '_base_' not in osp.relpath(p, root).split(os.sep))


def select(libraries: Sequence[str], patterns: Optional[Sequence[str]] = None,
           sample: Optional[int] = None, every: int = 1) -> List[tuple]:
    """The ``(library, config)`` pairs, library by library: those whose ``library::config``
    matches one of the fnmatch ``patterns`` (all without), ``sample`` of them evenly spread
    (the same each run), then every ``every``-th."""
    jobs = []
    for library in libraries:
        configs = library_configs(library)
        if patterns:
            configs = [c for c in configs if any(fnmatch.fnmatch(f'{library}::{c}', pattern)
                                                 for pattern in patterns)]
        if sample:
            count = min(sample, len(configs))
            configs = [configs[i * len(configs) // count] for i in range(count)]
        jobs += [(library, c) for c in configs[::every]]
    return jobs


def family(library: str, config: str) -> str:
    """The config's folder under ``configs/`` (mmpose's first two levels)."""
    parts = config.split(os.sep)[:-1]
    return '/'.join(parts[:2 if library == 'mmpose' else 1]) or '.'


def error_line(error: BaseException) -> str:
    """``Type: first line of the message (file:line)``, the line the innermost frame outside
    torch's own code."""
    frames = traceback.extract_tb(error.__traceback__)
    outside = [f for f in frames if f'{os.sep}torch{os.sep}' not in f.filename] or frames
    where = ''
    if outside:
        path = outside[-1].filename.split(f'site-packages{os.sep}')[-1]
        where = f' ({path}:{outside[-1].lineno})'
    message = ' '.join((str(error).strip().splitlines() or [''])[0].split())[:300]
    return f'{type(error).__name__}: {message}{where}'


def cap_detections(test_cfg, most: int = 50) -> None:
    """Cap each ``max_per_img`` and ``nms_pre`` of an mmdet ``test_cfg`` at ``most``: random
    weights keep all the boxes allowed, for each of which an LVIS mask head draws 1203 masks."""
    for key, value in (test_cfg.items() if isinstance(test_cfg, dict) else ()):
        if key in ('max_per_img', 'nms_pre') and isinstance(value, int):
            test_cfg[key] = min(value, most)
        else:
            cap_detections(value, most)


def prepare_inputs(library: str, cfg: Config) -> dict:
    """A small synthetic batch of the kind the library's models take; edits ``cfg.model``
    where the batch needs it (mmdet's and mmyolo's detections, mmseg's padding, mmpose's flip
    test)."""
    side = SIDES.get(library)
    if library in ('mmdet', 'mmyolo'):
        from mmdet.testing import demo_mm_inputs
        cap_detections(cfg.model.get('test_cfg'))
        return demo_mm_inputs(batch_size=1, image_shapes=[(3, side, side)], num_items=[3],
                              num_classes=2, with_mask=True)
    if library == 'mmseg':
        from mmseg.structures import SegDataSample
        if cfg.model.get('data_preprocessor', {}).get('size'):
            cfg.model.data_preprocessor.size = (side, side)
        shape = (side, side)
        samples = [SegDataSample(metainfo=dict(img_shape=shape, ori_shape=shape,
                                               pad_shape=shape)) for _ in range(2)]
        for sample in samples:
            sample.gt_sem_seg = PixelData(data=torch.randint(0, 2, (1, *shape)))
        return dict(inputs=[torch.randint(0, 256, (3, *shape), dtype=torch.uint8)] * 2,
                    data_samples=samples)
    from mmpose.testing import get_packed_inputs
    if cfg.model.get('test_cfg'):  # the synthetic keypoints have no flip pairs; DEKR
        cfg.model.test_cfg.flip_test = False  # predicts one image at a time
    codec = cfg.get('codec', {})
    codec = (codec[0] if isinstance(codec, (list, tuple)) else codec) or {}
    w, h = codec.get('input_size', (192, 256))
    return get_packed_inputs(batch_size=1, img_shape=(h, w), input_size=(w, h),
                             heatmap_size=codec.get('heatmap_size', (w // 4, h // 4)),
                             simcc_split_ratio=codec.get('simcc_split_ratio', 2.0))


def build(cfg: Config) -> torch.nn.Module:
    """``cfg.model`` built in the current scope, SyncBN reverted, its weights random; built
    from a copy, as some models edit their config (DINO its ``bbox_head``)."""
    torch.manual_seed(0)
    return revert_sync_batchnorm(MODELS.build(copy.deepcopy(cfg.model)))


def forward(library: str, model: torch.nn.Module, packed: dict, ran: list) -> None:
    """Run ``model`` on ``packed``: mmseg's loss (every decode and auxiliary head), the
    others' prediction; ``ran`` collects the names of the backbone and neck as they finish."""
    for name in ('backbone', 'neck'):
        if isinstance(getattr(model, name, None), torch.nn.Module):
            getattr(model, name).register_forward_hook(lambda *_, n=name: ran.append(n))
    training = library == 'mmseg'
    model.train(training)
    with torch.set_grad_enabled(training):
        data = model.data_preprocessor(packed, training)
        model(**data, mode='loss' if training else 'predict')


def check_config(library: str, config: str, step: Callable[[str], None]) -> dict:
    """Load, run, swap and run again one config; ``step`` is told each step as it starts
    (a worker that dies or hangs is judged by its last step). Returns its record."""
    record = dict(library=library, family=family(library, config), config=config)
    start = time.monotonic()

    def done(status: str, reason: str = '', **extra) -> dict:
        return dict(record, status=status, reason=reason, **extra,
                    seconds=round(time.monotonic() - start, 2))

    try:
        cfg = Config.fromfile(osp.join(configs_root(library), config))
    except Exception as error:
        return done('not a candidate', f'does not load: {error_line(error)}')
    model_cfg = cfg.get('model')
    if not isinstance(model_cfg, dict) or not isinstance(model_cfg.get('backbone'), dict):
        return done('not a candidate', 'no model.backbone')
    if model_cfg.get('type') == 'PoseLifter':
        return done('not a candidate', 'a pose lifter: it reads keypoints, not images')
    init_default_scope(cfg.get('default_scope', library))
    step('control')
    try:
        packed = prepare_inputs(library, cfg)
        forward(library, build(cfg), packed, [])
    except Exception as error:
        return done('control fails', error_line(error))
    step('swap')
    try:
        swapped = swap_in_fasternet(cfg, ARCH)
    except UnsupportedSwap as error:
        return done('refused', str(error))
    except Exception as error:
        return done('swap crashes', error_line(error))
    step('build')
    try:
        model = build(swapped)
    except Exception as error:
        return done('build fails', error_line(error))
    step('forward')
    ran = []
    try:
        forward(library, model, packed, ran)
    except Exception as error:
        failed_in = 'backbone' if 'backbone' not in ran else \
            'neck' if 'neck' not in ran and getattr(model, 'with_neck', False) else 'head'
        return done('forward fails', error_line(error), failed_in=failed_in)
    return done('works')


def worker(library: str, config: str, connection) -> None:
    """The forked process of one config: one thread, no downloads, the record sent back."""
    torch.set_num_threads(1)
    os.environ.update(HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1')
    record = check_config(library, config, connection.send)
    connection.send(record)


def run_all(jobs: Sequence[tuple], workers: int, timeout: float) -> List[dict]:
    """Each ``(library, config)`` job's record, sorted, ``workers`` forked processes at a
    time; a process that dies or runs past ``timeout`` seconds is killed and judged by the
    step it was in. Prints each record's status as it comes."""
    for library in sorted({library for library, _ in jobs}):  # imported once, for every fork
        importlib.import_module(f'{library}.models')
    context = multiprocessing.get_context('fork')
    pending, running, records = list(jobs), [], []
    while pending or running:
        while pending and len(running) < workers:
            library, config = pending.pop(0)
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=worker, args=(library, config, sender))
            process.start()
            sender.close()
            running.append(dict(library=library, config=config, process=process,
                                receiver=receiver, step='load', start=time.monotonic()))
        wait([job['receiver'] for job in running] + [job['process'].sentinel for job in running],
             timeout=1)
        for job in list(running):
            alive, record = job['process'].is_alive(), None
            try:
                while job['receiver'].poll():  # the steps, then the record
                    message = job['receiver'].recv()
                    if isinstance(message, dict):
                        record = message
                    else:
                        job['step'] = message
            except EOFError:  # the worker has gone
                pass
            seconds = time.monotonic() - job['start']
            if record is None and alive and seconds < timeout:
                continue
            job['process'].kill()
            job['process'].join()
            job['receiver'].close()
            running.remove(job)
            if record is None:
                why = (f'timed out after {timeout:g} s' if alive else
                       f'the worker died (exit code {job["process"].exitcode})')
                record = dict(library=job['library'], config=job['config'],
                              family=family(job['library'], job['config']),
                              status=STEP_STATUS.get(job['step'], 'not a candidate'),
                              reason=f'{why} in the step {job["step"]}',
                              seconds=round(seconds, 2))
            records.append(record)
            where = f" [{record['failed_in']}]" if 'failed_in' in record else ''
            print(f'[{len(records)}/{len(jobs)}] {record["library"]}::{record["config"]}: '
                  f'{record["status"]}{where} ({record["seconds"]:.1f} s)', flush=True)
    return sorted(records, key=lambda r: (r['library'], r['config']))


def run_summary(command: str, libraries: Sequence[str], seconds: float) -> dict:
    """What a run's files record besides the configs: its command, the machine, the versions
    of torch, mmengine, ``libraries`` and mmfasternet, the date, its ``seconds``, the arch."""
    versions = {name: importlib.import_module(name).__version__
                for name in ('torch', 'mmengine', *libraries, 'mmfasternet')}
    return dict(command=command, machine=report.machine(),
                versions=', '.join(f'{k} {v}' for k, v in versions.items()),
                date=datetime.date.today().isoformat(), seconds=round(seconds, 1), arch=ARCH)


def counts_row(name: str, records: Sequence[dict]) -> list:
    """``name``, the configs, each status's count (forward fails with its head-only count),
    and works / configs whose control runs."""
    count = Counter(r['status'] for r in records)
    head = sum(r.get('failed_in') == 'head' for r in records)
    runs = len(records) - count['not a candidate'] - count['control fails']
    share = f'{100 * count["works"] / runs:.0f}%' if runs else '-'
    return [name, len(records), *(count[s] for s in STATUSES[:-1]),
            f'{count["forward fails"]} ({head})', share]


def counts_table(first: str, rows: Sequence[list], last: str) -> List[str]:
    """The lines of a table of :func:`counts_row` rows, its first and last columns named."""
    header = [first, 'configs', *STATUSES[:-1], 'forward fails (only in head)', last]
    return report.markdown_table(header, rows, right=len(header) - 1)


def library_counts(records: Sequence[dict], libraries: Sequence[str]) -> List[str]:
    """What a run prints: the counts of each of ``libraries`` and of all."""
    rows = [counts_row(library, [r for r in records if r['library'] == library])
            for library in libraries]
    return counts_table('', rows + [counts_row('all', records)], 'works')


def markdown(summary: dict, records: Sequence[dict]) -> List[str]:
    """swap_zoo.md: the command, the counts by family, library and overall, the refusals by
    reason, every failure (the controls' too) and the configs that are no candidates."""
    by_family, by_library = defaultdict(list), defaultdict(list)
    for r in records:
        by_family[f"{r['library']} {r['family']}"].append(r)
        by_library[r['library']].append(r)
    rows = [counts_row(name, rs) for name, rs in sorted(by_family.items())]
    totals = [counts_row(f'**{name}**', by_library[name]) for name in LIBRARIES
              if name in by_library]
    lines = [f'# FasterNet-{ARCH.upper()} swapped into the model zoos ({summary["date"]})', '',
             f'`{summary["command"]}`', '',
             f'{summary["machine"]}; {summary["versions"]}; {len(records)} configs in '
             f'{summary["seconds"] / 60:.1f} min.', '',
             *counts_table('library / family', rows, 'works / control runs'), '',
             *counts_table('library / family', totals + [counts_row('**all**', records)],
                           'works / control runs'), '',
             '## Refused, by reason', '']
    refused = defaultdict(list)
    for r in records:
        if r['status'] == 'refused':
            reason = r['reason'].replace('swap_in_fasternet: ', '').split(' (known:')[0]
            refused[reason].append(f"{r['library']}::{r['config']}")
    for reason, configs in sorted(refused.items(), key=lambda item: -len(item[1])):
        lines += [f'- {reason} ({len(configs)}): ' + ', '.join(configs)]
    for title, kept in (('Failures', ('control fails', *STEP_STATUS.values())),
                        ('Not candidates', ('not a candidate', ))):
        lines += ['', f'## {title}', '']
        for r in records:
            if r['status'] in kept:
                where = f" in the {r['failed_in']}" if 'failed_in' in r else ''
                lines += [f"- {r['library']}::{r['config']}: {r['status']}{where}: "
                          f"{r['reason']}"]
    return lines
