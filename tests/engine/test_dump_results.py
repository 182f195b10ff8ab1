"""``tools/test.py --out`` pickles the predictions in one step: the file loads back, and a
full disk keeps the previous file and says what it needed."""
import pickle

import pytest
import torch

from conftest import assert_says, no_space_message
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
    message = no_space_message(prefix, (
        f'import numpy as np\n'
        f'from mmfasternet.engine.dump_results import AtomicDumpResults\n'
        f'metric = AtomicDumpResults(out_file_path={str(out)!r})\n'
        f'metric.compute_metrics([np.zeros(2**20, np.uint16)])'))
    assert_says(message, f'no space left to write {out}: it needs 2.0 MiB, ',
                ' are free; nothing was written')
    assert out.read_bytes() == b'previous'
    assert [p.name for p in folder.iterdir()] == ['preds.pkl']
