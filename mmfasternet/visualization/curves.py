"""Plot the losses that mmengine logs to ``vis_data/scalars.json``."""
import json
from typing import Dict, List, Sequence

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from mmfasternet.errors import ArgumentError  # noqa: E402
from mmfasternet.fileio import save_figure_atomically  # noqa: E402


def read_scalars(path: str) -> List[dict]:
    """Read mmengine's ``scalars.json`` (one JSON object per line)."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def plot_losses(scalars_path: str, out_path: str, title: str = 'training losses',
                keys: Sequence[str] = ()) -> Dict[str, List[float]]:
    """Plot every ``loss*`` series (or ``keys``) against the iteration and save a PNG in
    one step (:func:`~mmfasternet.fileio.save_figure_atomically`).

    Returns:
        dict: The plotted series, name to values.
    """
    records = [r for r in read_scalars(scalars_path) if 'iter' in r and 'loss' in r]
    if not records:
        raise ArgumentError(f'{scalars_path} holds no training loss records')
    names = list(keys) or sorted({k for r in records for k in r if k.startswith('loss')})
    series = {name: [r[name] for r in records if name in r] for name in names}
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    for name in names:
        iters = [r['iter'] for r in records if name in r]
        ax.plot(iters, series[name], label=name, linewidth=2 if name == 'loss' else 1)
    ax.set_xlabel('iteration')
    ax.set_ylabel('loss')
    ax.set_yscale('log')
    ax.set_title(title)
    ax.grid(True, which='both', alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    save_figure_atomically(fig, out_path)
    plt.close(fig)
    return series
