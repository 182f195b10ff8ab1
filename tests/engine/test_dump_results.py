"""``tools/test.py --out`` pickles the predictions in one step: the file loads back, and a
full disk keeps the previous file and says what it needed."""
import pickle

import pytest
import torch

from conftest import assert_says, run_limited
from mmfasternet.engine.dump_results import AtomicDumpResults


def test_predictions_load_back_from_a_new_folder(tmp_path):
    out = tmp_path / 'new' / 'preds.pkl'
    metric = AtomicDumpResults(out_file_path=str(out))
    metric.process({}, [dict(pred_score=torch.tensor([0.25, 0.75]))])
    assert metric.compute_metrics(metric.results) == {}
    loaded = pickle.loads(out.read_bytes())
    assert torch.equal(loaded[0]['pred_score'], torch.tensor([0.25, 0.75]))
    assert [p.name for p in out.parent.iterdir()] == ['preds.pkl']


@pytest.mark.parametrize('small_disk', [1], indirect=True)
def test_predictions_that_do_not_fit_keep_the_previous_file(small_disk):
    folder, prefix = small_disk
    out = folder / 'preds.pkl'
    out.write_bytes(b'previous')
    script = (f'import numpy as np\n'
              f'from mmfasternet.engine.dump_results import AtomicDumpResults\n'
              f'from mmfasternet.fileio import NoSpaceLeft\n'
              f'metric = AtomicDumpResults(out_file_path={str(out)!r})\n'
              f'try:\n'
              f'    metric.compute_metrics([np.zeros(2**20, np.uint16)])\n'
              f'except NoSpaceLeft as error:\n'
              f'    print(error)\n')
    message = run_limited(prefix, '-c', script).stdout.strip().splitlines()[-1]
    assert_says(message, f'no space left to write {out}: it needs 2.0 MiB, ',
                ' are free; nothing was written')
    assert out.read_bytes() == b'previous'
    assert [p.name for p in folder.iterdir()] == ['preds.pkl']
