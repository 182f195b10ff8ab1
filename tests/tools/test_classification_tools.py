"""tools/train.py and tools/test.py on an mmpretrain config: --auto-scale-lr, --resume from
a given checkpoint, --fuse-conv-bn and --show-dir."""
import pickle
import re

import pytest
import torch
from mmengine.config import Config

from conftest import TEST, TRAIN, run_tool
from mmfasternet.checkpoint import read_checkpoint
from toy_configs import write_toy_config

EXACT_RESUME = "custom_hooks = [dict(type='mmfasternet.RandomStateHook')]\n"


def top1(result):
    return float(re.search(r'accuracy/top1: ([\d.]+)', result.stdout + result.stderr).group(1))


@pytest.mark.long
def test_train_scales_lr_resumes_from_a_path_and_tests_folded(tmp_path, tiny_image_folder):
    config = write_toy_config('cls', tmp_path, tiny_image_folder, max_epochs=2,
                              extra=EXACT_RESUME)
    straight, resumed = tmp_path / 'straight', tmp_path / 'resumed'
    result = run_tool(TRAIN, config, '--work-dir', str(straight), '--auto-scale-lr')
    base_lr = Config.fromfile(config).optim_wrapper.optimizer.lr
    assert ('LR is set based on batch size of 4096 and the current batch size is 2. '
            'Scaling the original LR by 0.00048828125.') in result.stdout + result.stderr
    saved = read_checkpoint(str(straight / 'epoch_2.pth'))
    assert saved['optimizer']['param_groups'][0]['initial_lr'] == pytest.approx(
        base_lr * 2 / 4096)

    first = straight / 'epoch_1.pth'
    result = run_tool(TRAIN, config, '--work-dir', str(resumed), '--auto-scale-lr',
                      '--resume', str(first))
    assert f'Load checkpoint from {first}' in result.stdout + result.stderr
    assert not (resumed / 'epoch_1.pth').exists()
    got = read_checkpoint(str(resumed / 'epoch_2.pth'))['state_dict']
    expected = saved['state_dict']
    assert expected.keys() == got.keys()
    for key in expected:
        assert torch.equal(expected[key], got[key]), key

    outputs, drawn = {}, tmp_path / 'drawn'
    for fused, flags in ((False, ['--show-dir', str(drawn)]), (True, ['--fuse-conv-bn'])):
        out = tmp_path / f'preds_{fused}.pkl'
        result = run_tool(TEST, config, str(straight / 'epoch_2.pth'), '--work-dir',
                          str(tmp_path / 'test'), '--out', str(out), *flags)
        outputs[fused] = top1(result), pickle.load(open(out, 'rb'))
    (plain_top1, plain), (fused_top1, fused) = outputs[False], outputs[True]
    assert fused_top1 == pytest.approx(plain_top1, abs=1e-3)
    assert len(plain) == len(fused) == 4
    # --show-dir turned on mmpretrain's own switch: every test image drawn into the folder.
    assert len([p for p in drawn.iterdir() if p.name.endswith('.png_0.png')]) == 4
    for a, b in zip(plain, fused):
        assert torch.equal(a['pred_label'], b['pred_label'])
        torch.testing.assert_close(a['pred_score'], b['pred_score'], rtol=0, atol=1e-5)
