import os.path as osp

import pytest
import timm
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from torch.nn.modules.batchnorm import _BatchNorm

from conftest import REPO, randomize_norms
from mmfasternet import FasterNet
from mmfasternet.checkpoint import official_to_timm
from mmfasternet.models.backbones import fasternet as fasternet_module
from mmfasternet.models.backbones.fasternet import FasterNetBlock, PartialConv

# Official detection backbone (four output norms, no classifier): parameter counts.
OFFICIAL_BACKBONE_PARAMS = {
    't0': 2_216_100,
    't1': 5_660_928,
    't2': 12_721_728,
    's': 28_593_152,
    'm': 50_770_224,
    'l': 90_223_872,
}
WIDTHS = {'t0': 40, 't1': 64, 't2': 96, 's': 128, 'm': 144, 'l': 192}


def num_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('arch', list(OFFICIAL_BACKBONE_PARAMS))
def test_official_param_counts_and_multiscale_shapes(arch):
    model = FasterNet(arch).eval()
    assert num_params(model) == OFFICIAL_BACKBONE_PARAMS[arch]
    c = WIDTHS[arch]
    outs = model(torch.rand(2, 3, 64, 96))
    assert [tuple(o.shape) for o in outs] == [
        (2, c, 16, 24), (2, 2 * c, 8, 12), (2, 4 * c, 4, 6), (2, 8 * c, 2, 3)]
    assert model.channels == [c, 2 * c, 4 * c, 8 * c]


@pytest.mark.parametrize('arch', list(OFFICIAL_BACKBONE_PARAMS))
@pytest.mark.parametrize('pconv_forward', ['split_cat', 'slicing'])
def test_matches_timm_reference_network(arch, pconv_forward):
    """The same weights, loaded into timm's independent FasterNet through the official key
    names, give the same stage features; ours then pass through the output norms."""
    torch.manual_seed(0)
    model = randomize_norms(FasterNet(arch, pconv_forward=pconv_forward)).eval()
    reference = timm.create_model(f'fasternet_{arch}', pretrained=False).eval()
    ours = official_to_timm(model.state_dict())
    output_norms = {k for k in ours if k.startswith('norm')}
    missing, unexpected = reference.load_state_dict(
        {k: v for k, v in ours.items() if k not in output_norms}, strict=False)
    assert set(missing) == {'conv_head.weight', 'classifier.weight', 'classifier.bias'}
    assert unexpected == []

    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        outs = model(x)
        features = reference.forward_intermediates(x, intermediates_only=True)
    for i, (out, feat) in enumerate(zip(outs, features)):
        norm = getattr(model, f'norm{2 * i}')
        expected = F.batch_norm(feat, norm.running_mean, norm.running_var, norm.weight,
                                norm.bias, eps=norm.eps)
        torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-5)


def test_layer_scale_uses_official_name_and_matches_timm():
    model = FasterNet('t0', layer_scale_init_value=0.5).eval()
    assert model.stages[0].blocks[0].layer_scale.shape == (40, )
    assert 'stages.6.blocks.1.layer_scale' in model.state_dict()
    torch.manual_seed(0)
    for name, param in model.named_parameters():
        if name.endswith('layer_scale'):
            param.data.uniform_(0.1, 2.0)  # away from both models' initial 0.5
    reference = timm.create_model('fasternet_t0', layer_scale_init_value=0.5).eval()
    ours = {k: v for k, v in official_to_timm(model.state_dict()).items()
            if not k.startswith('norm')}
    missing, unexpected = reference.load_state_dict(ours, strict=False)
    assert unexpected == []
    assert sorted(missing) == ['classifier.bias', 'classifier.weight', 'conv_head.weight']
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        feats = reference.forward_intermediates(x, intermediates_only=True)
        outs = model(x)
    for i, (out, feat) in enumerate(zip(outs, feats)):
        torch.testing.assert_close(out, getattr(model, f'norm{2 * i}')(feat),
                                   rtol=1e-4, atol=1e-5)


def test_custom_arch_dict_and_act_override():
    model = FasterNet(dict(embed_dims=16, depths=[1, 1, 2, 1]), act_cfg=dict(type='GELU'))
    assert model.channels == [16, 32, 64, 128]
    assert [len(model.stages[2 * i].blocks) for i in range(4)] == [1, 1, 2, 1]
    assert isinstance(model.stages[0].blocks[0].mlp[2], nn.GELU)
    assert isinstance(FasterNet('s').stages[0].blocks[0].mlp[2], nn.ReLU)
    assert isinstance(FasterNet('t1').stages[0].blocks[0].mlp[2], nn.GELU)


@pytest.mark.parametrize('out_indices, smallest', [((0, 1, 2, 3), 32), ((1, ), 8)])
def test_min_input_size_is_the_smallest_input_the_built_stages_take(out_indices, smallest):
    model = FasterNet('t0', out_indices=out_indices).eval()
    assert model.min_input_size == smallest
    with torch.no_grad():
        assert model(torch.randn(1, 3, smallest, smallest))[-1].shape[-2:] == (1, 1)
        with pytest.raises(RuntimeError):
            model(torch.randn(1, 3, smallest - 1, smallest))


def test_drop_path_rates_grow_linearly_over_blocks():
    model = FasterNet('t0', drop_path_rate=0.1)
    blocks = [b for i in range(4) for b in model.stages[2 * i].blocks]
    assert isinstance(blocks[0].drop_path, nn.Identity)
    rates = [b.drop_path.drop_prob for b in blocks[1:]]
    assert rates == pytest.approx([0.1 * i / 12 for i in range(1, 13)])


@pytest.mark.parametrize('out_indices, stages', [
    ((0, 1, 2, 3), (0, 1, 2, 3)),
    ((1, -1), (1, 3)),
    ((-4, 2), (0, 2)),
    (2, (2, )),
    ([3], (3, )),
])
def test_out_indices(out_indices, stages):
    model = FasterNet('t0', out_indices=out_indices).eval()
    assert model.out_indices == stages
    outs = model(torch.rand(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [40 * 2**i for i in stages]
    assert [o.shape[-1] for o in outs] == [16 // 2**i for i in stages]
    norms = sorted(k.split('.')[0] for k in model.state_dict() if k.startswith('norm'))
    assert sorted(set(norms)) == [f'norm{2 * i}' for i in stages]


def test_outputs_of_a_subset_equal_those_of_the_full_model():
    full = randomize_norms(FasterNet('t0')).eval()
    subset = FasterNet('t0', out_indices=(1, )).eval()
    subset.load_state_dict(full.state_dict(), strict=False)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(subset(x)[0], full(x)[1])


FROZEN_PREFIXES = {
    -1: (),
    0: ('patch_embed.', ),
    1: ('patch_embed.', 'stages.0.', 'norm0.'),
    2: ('patch_embed.', 'stages.0.', 'norm0.', 'stages.1.', 'stages.2.', 'norm2.'),
    4: ('patch_embed.', 'stages.', 'norm'),
}


@pytest.mark.parametrize('frozen_stages', sorted(FROZEN_PREFIXES))
def test_frozen_stages_freeze_exactly_the_right_parameters(frozen_stages):
    model = FasterNet('t0', frozen_stages=frozen_stages)
    assert model.train() is model
    prefixes = FROZEN_PREFIXES[frozen_stages]
    for name, param in model.named_parameters():
        assert param.requires_grad == (not name.startswith(prefixes)), name
    for name, module in model.named_modules():
        if name and isinstance(module, _BatchNorm):
            assert module.training == (not f'{name}.'.startswith(prefixes)), name
    assert model.eval() is model and not model.training


def test_frozen_stages_keep_statistics_during_training():
    model = FasterNet('t0', frozen_stages=1)
    model.train()
    frozen_mean = model.stages[0].blocks[0].mlp[1].running_mean.clone()
    trained_mean = model.stages[2].blocks[0].mlp[1].running_mean.clone()
    sum(o.sum() for o in model(torch.rand(2, 3, 64, 64))).backward()
    assert torch.equal(model.stages[0].blocks[0].mlp[1].running_mean, frozen_mean)
    assert not torch.equal(model.stages[2].blocks[0].mlp[1].running_mean, trained_mean)
    assert model.patch_embed.proj.weight.grad is None
    assert model.stages[2].blocks[0].mlp[0].weight.grad is not None


def test_norm_eval_keeps_batchnorm_in_eval_but_trains_weights():
    model = FasterNet('t0', norm_eval=True)
    model.train()
    assert model.training
    assert all(not m.training for m in model.modules() if isinstance(m, _BatchNorm))
    before = model.norm6.running_mean.clone()
    model(torch.rand(2, 3, 64, 64))[-1].sum().backward()
    assert torch.equal(model.norm6.running_mean, before)
    assert all(p.requires_grad for p in model.parameters())
    model.eval()
    model.train(True)
    assert all(not m.training for m in model.modules() if isinstance(m, _BatchNorm))


def test_with_cp_gives_same_outputs_and_gradients(monkeypatch):
    torch.manual_seed(0)
    plain = FasterNet('t0').train()
    checkpointed = FasterNet('t0', with_cp=True).train()
    checkpointed.load_state_dict(plain.state_dict())
    calls = []
    real_checkpoint = fasternet_module.cp.checkpoint

    def counting_checkpoint(*args, **kwargs):
        calls.append(1)
        return real_checkpoint(*args, **kwargs)

    monkeypatch.setattr(fasternet_module.cp, 'checkpoint', counting_checkpoint)
    x = torch.rand(2, 3, 64, 64)
    outs = [m(x) for m in (plain, checkpointed)]
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b)
    for out in outs:
        sum((o**2).mean() for o in out).backward()
    assert len(calls) == sum(FasterNet.arch_zoo['t0']['depths'])
    for (name, p), q in zip(plain.named_parameters(), checkpointed.parameters()):
        torch.testing.assert_close(p.grad, q.grad, msg=name)


@pytest.mark.parametrize('forward_type', ['split_cat', 'slicing'])
def test_partial_conv_touches_only_the_first_channels_and_not_its_input(forward_type):
    pconv = PartialConv(16, 4, forward_type)
    x = torch.randn(2, 16, 8, 8)
    x_before = x.clone()
    out = pconv(x)
    assert torch.equal(x, x_before)
    assert torch.equal(out[:, 4:], x[:, 4:])
    torch.testing.assert_close(out[:, :4], pconv.partial_conv3(x[:, :4]))


def test_split_cat_equals_slicing_in_training_and_inference():
    kwargs = dict(dim=16, n_div=4, mlp_ratio=2., drop_path=0., layer_scale_init_value=0.,
                  norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU', inplace=True))
    split_cat = FasterNetBlock(pconv_forward='split_cat', **kwargs)
    slicing = FasterNetBlock(pconv_forward='slicing', **kwargs)
    slicing.load_state_dict(split_cat.state_dict())
    x = torch.randn(2, 16, 8, 8, requires_grad=True)
    x_before = x.detach().clone()
    out_a, out_b = split_cat(x), slicing(x)
    assert torch.equal(x.detach(), x_before)
    torch.testing.assert_close(out_a, out_b)
    grad_a, = torch.autograd.grad(out_a.sum(), x)
    grad_b, = torch.autograd.grad(out_b.sum(), x)
    torch.testing.assert_close(grad_a, grad_b)

    models = [FasterNet('t1', pconv_forward=f).eval() for f in ('split_cat', 'slicing')]
    models[1].load_state_dict(models[0].state_dict())
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(models[0](x), models[1](x)):
            torch.testing.assert_close(a, b)


def test_sync_bn_reverts_to_bn_with_identical_outputs():
    sync = FasterNet('t0', norm_cfg=dict(type='SyncBN'))
    assert isinstance(sync.patch_embed.norm, nn.SyncBatchNorm)
    randomize_norms(sync)
    reference = FasterNet('t0').eval()
    reference.load_state_dict(sync.state_dict())
    reverted = revert_sync_batchnorm(sync).eval()
    assert not any(isinstance(m, nn.SyncBatchNorm) for m in reverted.modules())
    # embedding + 3 merging layers + 13 blocks + 4 output norms
    assert sum(isinstance(m, _BatchNorm) for m in reverted.modules()) == 1 + 3 + 13 + 4
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(reverted(x), reference(x)):
            torch.testing.assert_close(a, b)


def test_sync_bn_trains_on_one_cpu_process_like_bn():
    torch.manual_seed(0)
    sync = FasterNet('t0', norm_cfg=dict(type='SyncBN')).train()
    plain = FasterNet('t0').train()
    plain.load_state_dict(sync.state_dict())
    x = torch.rand(2, 3, 32, 32)
    for a, b in zip(sync(x), plain(x)):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(sync.norm6.running_mean, plain.norm6.running_mean)


def test_group_norm():
    model = FasterNet('t0', norm_cfg=dict(type='GN', num_groups=8))
    assert not any(isinstance(m, _BatchNorm) for m in model.modules())
    assert isinstance(model.norm0, nn.GroupNorm)
    outs = model(torch.rand(1, 3, 32, 32))
    assert [o.shape[1] for o in outs] == [40, 80, 160, 320]


def test_init_weights_follows_the_official_scheme():
    model = randomize_norms(FasterNet('t0'))
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    for conv in convs:
        nn.init.constant_(conv.weight, 1.)
    model.init_weights()
    # Official: trunc_normal_(std=.02) for every conv (none has a bias), BN weight 1 and
    # bias 0. PyTorch's own conv init would give mlp.0 (fan-in 160) a std of 0.046.
    weight = model.stages[2].blocks[0].mlp[0].weight
    assert weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert abs(weight.mean().item()) < 1e-3
    assert all(conv.bias is None and conv.weight.abs().max() < 0.2 for conv in convs)
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert len(norms) == 21  # embedding, 3 merging layers, 13 blocks, 4 output norms
    for norm in norms:
        assert torch.equal(norm.weight, torch.ones_like(norm.weight))
        assert torch.equal(norm.bias, torch.zeros_like(norm.bias))


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(arch='x1'), ValueError, r"arch must be one of \['l', 'm', 's', 't0', 't1', 't2'\]"),
    (dict(arch=3), TypeError, 'arch must be a str or a dict'),
    (dict(arch=dict(embed_dims=32)), ValueError, 'missing .*depths'),
    (dict(arch=dict(embed_dims=32, depths=[1, 1, 1], act=1)), ValueError, "unknown arch keys"),
    (dict(arch=dict(embed_dims=32, depths=[1, 1, 1])), ValueError, 'depths must be 4'),
    (dict(arch=dict(embed_dims=0, depths=[1, 1, 1, 1])), ValueError, 'embed_dims'),
    (dict(out_indices=(4, )), ValueError, r'out_indices .*\[-4, 3\]'),
    (dict(out_indices=(-5, )), ValueError, 'out_indices'),
    (dict(out_indices=('1', )), ValueError, 'out_indices'),
    (dict(out_indices=()), TypeError, 'out_indices'),
    (dict(out_indices=(1, -3)), ValueError, 'names a stage twice'),
    (dict(frozen_stages=5), ValueError, r'frozen_stages must be in \[-1, 4\]'),
    (dict(frozen_stages=-2), ValueError, 'frozen_stages'),
    (dict(n_div=3), ValueError, 'n_div .*embed_dims=40'),
    (dict(n_div=0), ValueError, 'n_div'),
    (dict(pconv_forward='fast'), ValueError, r"pconv_forward must be one of \('split_cat'"),
])
def test_bad_arguments_name_the_problem(kwargs, error, match):
    with pytest.raises(error, match=match):
        FasterNet(**kwargs)


def test_layer_depth_counts_blocks_in_forward_order():
    model = FasterNet('t0')  # depths 1, 2, 8, 2: 13 blocks, so 15 depths
    depth = {name: model.get_layer_depth(f'backbone.{name}', 'backbone.')
             for name, _ in model.named_parameters()}
    assert set(n for _, n in depth.values()) == {15}
    assert depth['patch_embed.proj.weight'] == (0, 15)
    assert depth['stages.0.blocks.0.mlp.0.weight'] == (1, 15)
    assert depth['stages.1.reduction.weight'] == (2, 15)  # with the next stage's first block
    assert depth['stages.2.blocks.1.spatial_mixing.partial_conv3.weight'] == (3, 15)
    assert depth['stages.4.blocks.7.mlp.3.weight'] == (11, 15)
    assert depth['norm4.weight'] == (11, 15)  # with the last block of its stage
    assert depth['stages.6.blocks.1.mlp.1.bias'] == depth['norm6.bias'] == (13, 15)
    assert model.get_layer_depth('head.fc.weight', 'backbone.') == (14, 15)


def test_layer_wise_lr_decay_of_mmpretrain_uses_the_block_depths():
    from mmengine.optim import build_optim_wrapper
    from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS

    cfg = Config.fromfile(osp.join(REPO, 'configs', 'fasternet_t0_in1k.py'))
    model = MMPRETRAIN_MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, dict(
        optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
        constructor='mmpretrain.LearningRateDecayOptimWrapperConstructor',
        paramwise_cfg=dict(layer_decay_rate=0.5)))
    lr = {group['param_name']: group['lr'] for group in wrapper.optimizer.param_groups}
    assert len(lr) == len(list(model.parameters()))
    assert lr['head.fc.weight'] == pytest.approx(1e-3)
    assert lr['backbone.stages.6.blocks.1.mlp.3.weight'] == pytest.approx(1e-3 * 0.5)
    assert lr['backbone.patch_embed.proj.weight'] == pytest.approx(1e-3 * 0.5**14)
