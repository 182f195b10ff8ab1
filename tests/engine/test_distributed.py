"""Data-parallel training on the CPU (gloo): every config family through
``tools/dist_train.sh``, and a backbone whose outputs stop early under plain DDP."""
import os
import subprocess
import sys

import pytest

from conftest import RANK_HOOKS, REPO, dist_train, free_port
from toy_configs import write_toy_config


@pytest.mark.long
def test_dist_train_of_the_toy_upernet_reverts_syncbn_on_cpu(tmp_path, tiny_toy_ade):
    config = write_toy_config('seg', tmp_path, tiny_toy_ade, max_iters=2, val_interval=10,
                              extra=RANK_HOOKS)
    log, weights, _ = dist_train(tmp_path, config)
    assert 'all SyncBN layers are reverted to BN' in log
    assert 'Iter(train) [2/2]' in log
    assert any(k.startswith('decode_head.') for k in weights)


@pytest.mark.long
def test_dist_train_of_an_imagenet_style_classifier(tmp_path, tiny_image_folder):
    config = write_toy_config('cls', tmp_path, tiny_image_folder, max_epochs=1,
                              extra=RANK_HOOKS)
    log, weights, work_dir = dist_train(tmp_path, config)
    assert 'Epoch(train) [1][2/2]' in log  # 8 images, 2 ranks, batch 2
    assert 'Epoch(val) [1][1/1]' in log and 'accuracy/top1:' in log
    assert 'backbone.stages.6.blocks.1.mlp.3.weight' in weights
    assert (work_dir / 'epoch_1.pth').exists()


DDP_SCRIPT = """\
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from mmfasternet import FasterNet

dist.init_process_group('gloo')
torch.manual_seed(0)
model = DistributedDataParallel(FasterNet('t0', out_indices=(0, 1, 2)))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
torch.manual_seed(1 + dist.get_rank())
for step in range(3):
    loss = sum(out.mean() for out in model(torch.rand(2, 3, 64, 64)))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
params = torch.cat([p.detach().flatten() for p in model.parameters()])
gathered = [torch.empty_like(params) for _ in range(2)]
dist.all_gather(gathered, params)
assert torch.equal(gathered[0], gathered[1])
print(f'rank {dist.get_rank()}: 3 steps, {len(list(model.parameters()))} parameters in sync')
"""


@pytest.mark.long
def test_ddp_trains_a_backbone_whose_outputs_stop_early(tmp_path):
    script = tmp_path / 'ddp.py'
    script.write_text(DDP_SCRIPT)
    result = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
         '--master_port', str(free_port()), str(script)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO))
    assert result.returncode == 0, result.stderr[-5000:]
    assert 'rank 0: 3 steps' in result.stdout and 'rank 1: 3 steps' in result.stdout
