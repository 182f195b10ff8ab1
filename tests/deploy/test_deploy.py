"""Folding BN into the convs (switch_to_deploy) keeps the outputs."""
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch.nn.modules.batchnorm import _BatchNorm

from benchmarks.lab.paper import paper_column
from conftest import REPO, randomize_norms
from mmfasternet import FasterNet
from mmfasternet.deploy import switch_to_deploy
from mmfasternet.models.backbones.fasternet import PartialConv


def relative_error(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


@pytest.mark.parametrize('arch,pconv_forward', [('t0', 'split_cat'), ('t1', 'slicing'),
                                                ('t2', 'split_cat'), ('s', 'slicing'),
                                                ('m', 'split_cat'), ('l', 'split_cat')])
def test_folded_backbone_equals_eval_mode(arch, pconv_forward):
    torch.manual_seed(0)
    model = randomize_norms(FasterNet(arch, pconv_forward=pconv_forward)).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = model(x)
        model.switch_to_deploy()
        outs = model(x)
    # Only the four output norms, which follow residual sums, remain.
    assert sum(isinstance(m, _BatchNorm) for m in model.modules()) == 4
    assert {m.forward_type for m in model.modules() if isinstance(m, PartialConv)} == {
        'split_cat'}
    for a, b in zip(outs, expected):
        assert relative_error(a, b) < 1e-5
    with pytest.raises(RuntimeError, match='deploy mode'):
        model.train()


def test_folded_detector_gives_the_same_predictions():
    init_default_scope('mmdet')
    cfg = Config.fromfile(f'{REPO}/configs/toy/mask_rcnn_fasternet_t0_toy.py')
    cfg.model.test_cfg.rcnn.update(score_thr=0., max_per_img=30)  # keep 30 detections
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    randomize_norms(model.backbone)
    model.eval()
    packed = demo_mm_inputs(batch_size=1, image_shapes=[(3, 128, 128)], num_items=[2],
                            num_classes=4, with_mask=True)
    with torch.no_grad():
        data = model.data_preprocessor(packed, False)
        expected = model(**data, mode='predict')[0].pred_instances
        switch_to_deploy(model)
        got = model(**data, mode='predict')[0].pred_instances
    assert model.backbone.deploy
    assert len(expected) == len(got) == 30
    assert torch.equal(got.labels, expected.labels)
    torch.testing.assert_close(got.scores, expected.scores, rtol=0, atol=1e-4)
    torch.testing.assert_close(got.bboxes, expected.bboxes, rtol=0, atol=1e-2)
    # Masks agree to within 1% of each one's area (and one pixel, for masks of a few).
    differ = (got.masks ^ expected.masks).flatten(1).sum(1)
    union = (got.masks | expected.masks).flatten(1).sum(1)
    assert (differ <= 0.01 * union + 1).all(), (differ, union)


# Paper Tab. 8 / official README: GFLOPs (multiply-adds) at 224x224 with BN fused.
TAB8_GFLOPS = {name[len('fasternet_'):]: gflops
               for name, gflops in paper_column('imagenet', 'gflops').items()}


@pytest.mark.parametrize('arch', list(TAB8_GFLOPS))
def test_fused_classifier_flops_match_tab8(arch):
    from mmfasternet.analysis import complexity
    cfg = Config.fromfile(f'{REPO}/configs/fasternet_{arch}_in1k.py')
    result = complexity(cfg, (224, 224), deploy=True)
    assert result['gflops'] == pytest.approx(TAB8_GFLOPS[arch], abs=0.005)


def test_one_folding_for_peers_too():
    """``switch_to_deploy`` folds a peer's conv-BN pairs (mmcv's fusion), so FLOP counts and
    benchmarks fold FasterNet and ResNet alike."""
    import mmpretrain
    torch.manual_seed(0)
    model = randomize_norms(mmpretrain.get_model('resnet18_8xb32_in1k', pretrained=False))
    model.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = model(x, mode='tensor')
        assert switch_to_deploy(model) is model
        got = model(x, mode='tensor')
    assert not any(isinstance(m, _BatchNorm) for m in model.modules())
    assert relative_error(got, expected) < 1e-5


def test_folding_keeps_the_activation_of_a_norm_that_has_one():
    """timm's conv-norm-act blocks put the activation inside the BN module
    (``BatchNormAct2d``): folding keeps it. mmcv's ``fuse_conv_bn`` replaces the whole
    module by an identity, which changes LCNet's output by orders of magnitude."""
    import timm
    torch.manual_seed(0)
    model = randomize_norms(timm.create_model('lcnet_050', pretrained=False)).eval()
    x = torch.randn(1, 3, 96, 96)
    with torch.no_grad():
        expected = model(x)
        switch_to_deploy(model)
        got = model(x)
    assert not any(isinstance(m, _BatchNorm) for m in model.modules())
    assert relative_error(got, expected) < 1e-5


def test_a_norm_with_a_forward_of_its_own_is_not_folded():
    """A BN subclass whose forward does more than BN, of a kind folding does not know,
    stays as it is: folded, its extra work would be lost."""

    class ScaledNorm(torch.nn.BatchNorm2d):

        def forward(self, x):
            return 2 * super().forward(x)

    torch.manual_seed(0)
    model = randomize_norms(torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3),
                                                ScaledNorm(8))).eval()
    x = torch.randn(1, 3, 16, 16)
    with torch.no_grad():
        expected = model(x)
        switch_to_deploy(model)
        got = model(x)
    assert isinstance(model[1], ScaledNorm)
    assert relative_error(got, expected) < 1e-6
