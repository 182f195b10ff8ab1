"""Latency of FasterNet and its ImageNet peers on this machine, the paper's way
(batch 1, one thread, 224x224, BN folded, median after warm-up), with a table for
docs/benchmarks.md and a latency-vs-accuracy plot like the paper's Figure 1.

    python tools/analysis/benchmark.py --out docs
"""
import argparse
import os.path as osp
import platform

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from mmfasternet.analysis import count_model  # noqa: E402
from mmfasternet.benchmark import (PAPER, build_classifier, classifier_call,  # noqa: E402
                                   interleaved_latency_ms, matmul_gmacs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--models', nargs='+', default=list(PAPER))
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--rounds', type=int, default=5,
                        help='round-robin rounds of 4 runs per model')
    parser.add_argument('--out', default='docs', help='folder for benchmarks.md and the plot')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    peak = matmul_gmacs()
    models = {name: build_classifier(name) for name in args.models}
    sizes = {name: count_model(model, (torch.randn(1, 3, 224, 224), ))
             for name, model in models.items()}
    latency = interleaved_latency_ms(
        {name: classifier_call(model) for name, model in models.items()}, rounds=args.rounds)
    rows = []
    for name in args.models:
        ms, gflops = latency[name], sizes[name]['gflops']
        top1, paper_ms = PAPER[name]
        rows.append((name, sizes[name]['params_m'], gflops, ms, gflops / ms * 1e3, top1,
                     paper_ms))
        print(f'{name:40s} {ms:8.1f} ms  {rows[-1][4]:5.1f} GMAC/s', flush=True)

    lines = [
        '# CPU latency benchmark', '',
        f'`python tools/analysis/benchmark.py` on {platform.processor() or platform.machine()}'
        f', torch {torch.__version__}, {args.threads} thread(s), batch 1, 224x224, BN folded '
        f'(FasterNet: `switch_to_deploy`; peers: mmcv `fuse_conv_bn`). Median of '
        f'{4 * args.rounds} runs per model, taken round-robin over all models in '
        f'{args.rounds} rounds, so the ratios are side by side. Peers are mmpretrain 1.2.0 '
        f'architectures. A 1024x1024 fp32 matmul reaches {peak:.1f} GMAC/s here.', '',
        '| model | params (M) | GMACs | latency (ms) | GMAC/s | % of matmul | paper top-1 '
        '| paper i9 latency (ms) |',
        '|---|---|---|---|---|---|---|---|']
    for name, params, gflops, ms, rate, top1, paper_ms in rows:
        lines.append(f'| {name} | {params:.1f} | {gflops:.2f} | {ms:.1f} | {rate:.1f} | '
                     f'{100 * rate / peak:.0f}% | {top1} | {paper_ms} |')
    lines += ['', '## Inference paths of FasterNet', '',
              'Latency (ms) of the same network in plain eval mode, with BN folded, and '
              'folded with channels_last memory format (round-robin); ratios to plain eval.',
              '', '| model | eval | folded | folded + channels_last |', '|---|---|---|---|']
    for name in [n for n in ('fasternet_t0', 'fasternet_s') if n in args.models]:
        paths = interleaved_latency_ms({
            'eval': classifier_call(build_classifier(name, fold_bn=False)),
            'folded': classifier_call(build_classifier(name)),
            'channels_last': classifier_call(build_classifier(name), channels_last=True),
        }, rounds=args.rounds)
        plain = paths['eval']
        lines.append(f'| {name} | {plain:.1f} | {paths["folded"]:.1f} '
                     f'({paths["folded"] / plain:.2f}x) | {paths["channels_last"]:.1f} '
                     f'({paths["channels_last"] / plain:.2f}x) |')
        print(lines[-1], flush=True)
    with open(osp.join(args.out, 'benchmarks.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n\n![latency vs accuracy](latency_vs_accuracy.png)\n')

    fig, ax = plt.subplots(figsize=(8, 5), dpi=100)
    families = {}
    for name, _, _, ms, _, top1, _ in rows:
        families.setdefault(name.split('_')[0].split('-')[0], []).append((ms, top1, name))
    for family, points in families.items():
        points.sort()
        style = dict(linewidth=2.5, color='red') if family == 'fasternet' else dict()
        ax.plot([p[0] for p in points], [p[1] for p in points], marker='o', label=family,
                **style)
    ax.set_xscale('log')
    ticks = [t for t in (5, 10, 20, 50, 100, 200, 500, 1000, 2000)
             if min(r[3] for r in rows) / 2 < t < max(r[3] for r in rows) * 2]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel(f'CPU latency (ms, {args.threads} thread, batch 1, log scale)')
    ax.set_ylabel('ImageNet top-1 (%, paper Tab. 3)')
    ax.set_title('Latency on this machine vs accuracy')
    ax.grid(True, which='both', alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(osp.join(args.out, 'latency_vs_accuracy.png'))
    print(f'wrote {args.out}/benchmarks.md and {args.out}/latency_vs_accuracy.png')


if __name__ == '__main__':
    main()
