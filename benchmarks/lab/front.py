"""The latency-accuracy front: which models no other model beats both in speed and in cited
ImageNet top-1, which peers beat a FasterNet, and the plot of each deploy path (latency or
time per image against top-1, FasterNet's family as a line)."""
from typing import Dict, List, Sequence, Tuple

from .peers import cited_top1, is_fasternet, like_for_like
from .report import figure, save_plot


def beaten_by(name: str, ms: Dict[str, float], top1: Dict[str, float]) -> List[str]:
    """The models of ``ms`` faster than ``name`` (fewer ms per image) and at least as
    accurate (``top1``), fastest first: ``name`` is on the front where there are none."""
    return sorted((other for other in ms
                   if ms[other] < ms[name] and top1[other] >= top1[name]), key=ms.get)


def on_front(ms: Dict[str, float], top1: Dict[str, float]) -> List[str]:
    """The models of ``ms`` that no other beats (:func:`beaten_by`), fastest first."""
    return [name for name in sorted(ms, key=ms.get) if not beaten_by(name, ms, top1)]


def flag_marks(name: str) -> str:
    """Footnote marks of a cited top-1 reached otherwise than FasterNet's: ``*`` distilled,
    ``+`` extra data, ``^`` a schedule longer than FasterNet's 300 epochs."""
    cited = cited_top1(name)
    longer = (cited.get('epochs') or 0) > 300
    return ('*' if cited['distilled'] else '') + ('+' if cited['extra_data'] else '') + (
        '^' if longer else '')


def label(name: str) -> str:
    """A model's name as its paper writes it, with its :func:`flag_marks`."""
    return cited_top1(name)['name'] + flag_marks(name)


def front_verdicts(ms: Dict[str, float], top1: Dict[str, float]) -> Dict[str, str]:
    """For each FasterNet of ``ms``: ``'on the front'``, or the peers that beat it with
    their ms and top-1 (like for like first: ImageNet-1k only, no distillation)."""
    verdicts = {}
    for name in (n for n in ms if is_fasternet(n)):
        peers = [p for p in beaten_by(name, ms, top1) if not is_fasternet(p)]
        fair = [p for p in peers if like_for_like(p)]
        peers = fair or peers
        verdicts[name] = 'on the front' if not peers else 'beaten by ' + ', '.join(
            f'{label(p)} ({ms[p]:.3g} ms, {top1[p]:.1f}%)' for p in peers)
    return verdicts


def plot_front(panels: Sequence[Tuple[str, Dict[str, float]]], top1: Dict[str, float],
               xlabel: str, title: str, path: str) -> None:
    """One panel per deploy path: each model's ms per image (log scale) against its cited
    top-1, FasterNet's family as a red line, peers as labelled points (hollow where the
    top-1 was not reached like for like); saved whole to ``path``."""
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    with figure(rows, columns, figsize=(6.2 * columns, 5 * rows), dpi=100,
                squeeze=False) as (fig, axes):
        for ax, (panel_title, ms) in zip(axes.flat, panels):
            ours = sorted((n for n in ms if is_fasternet(n)), key=ms.get)
            ax.plot([ms[n] for n in ours], [top1[n] for n in ours], marker='o', linewidth=2.5,
                    color='tab:red', label='FasterNet', zorder=3)
            for name in ours:
                ax.annotate(name.split('_')[1].upper(), (ms[name], top1[name]), fontsize=8,
                            xytext=(4, -10), textcoords='offset points', color='tab:red')
            for name in (n for n in ms if not is_fasternet(n)):
                fair = like_for_like(name)
                ax.scatter(ms[name], top1[name], s=30, zorder=2, edgecolors='tab:blue',
                           facecolors='tab:blue' if fair else 'none')
                ax.annotate(label(name), (ms[name], top1[name]), fontsize=7, xytext=(4, 3),
                            textcoords='offset points')
            ax.set_xscale('log')
            ax.xaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
            ax.xaxis.set_major_formatter(FormatStrFormatter('%g'))
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_title(panel_title)
            ax.set_xlabel(xlabel)
            ax.set_ylabel('ImageNet top-1 (%, cited)')
            ax.grid(True, which='both', alpha=0.3)
        for ax in list(axes.flat)[len(panels):]:
            ax.axis('off')
        axes.flat[0].legend(loc='lower right', fontsize=8)
        fig.suptitle(title + '\nhollow: top-1 with distillation or extra data; * distilled, '
                     '+ extra data, ^ longer schedule than 300 epochs', fontsize=10)
        save_plot(fig, path)
