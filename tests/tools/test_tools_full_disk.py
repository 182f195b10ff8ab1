"""The tools on a full disk (tools/test.py --out; the data-check benchmark's is in
tests/benchmarks/): one line naming the file, the space it needs and what is free; the previous
file stays as it was and nothing half-written is left."""
import shutil

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from conftest import TEST, assert_says, last_line, run_tool, stops
from toy_configs import write_toy_config


@pytest.mark.parametrize('small_disk', [1], indirect=True)
def test_predictions_on_a_full_disk_stop_with_one_line(small_tmpfs, tmp_path,
                                                       tiny_image_folder):
    from mmpretrain.registry import MODELS

    config = write_toy_config('cls', tmp_path, tiny_image_folder)
    init_default_scope('mmpretrain')
    checkpoint = tmp_path / 'untrained.pth'
    torch.save(dict(state_dict=MODELS.build(Config.fromfile(config).model).state_dict()),
               checkpoint)
    out = small_tmpfs / 'preds.pkl'
    out.write_bytes(b'previous')
    (small_tmpfs / 'filler').write_bytes(bytes(shutil.disk_usage(small_tmpfs).free))
    result = run_tool(TEST, config, str(checkpoint), '--work-dir', str(tmp_path / 'work'),
                      '--out', str(out), check=False)
    stops(result)
    # The pickle of 4 predictions: some KiB.
    assert_says(last_line(result), f'no space left to write {out}: it needs ', ' KiB, ',
                '0.0 KiB are free; nothing was written')
    assert out.read_bytes() == b'previous'
    assert sorted(p.name for p in small_tmpfs.iterdir()) == ['filler', 'preds.pkl']
