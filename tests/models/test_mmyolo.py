"""mmyolo's YOLO family with FasterNet: configs of its own model zoo (mmyolo-open 0.6.1, the
``yolo`` extra: mmyolo 0.6.0's code with its mmcv assert relaxed to ``<= 2.1.0``), swapped
to FasterNet-T0 by stride. YOLOv5-S, YOLOv8-S and RTMDet-S take one training step and
predict; every other family of the zoo builds and runs its heads. mmyolo's necks and head
modules multiply their widths by a ``widen_factor``, which the swap folds into them, so that
they read FasterNet's own widths and build their other widths as before."""
import pytest
import torch
from mmdet.testing import demo_mm_inputs
from mmengine.hub import get_config
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import OptimWrapper
from mmengine.registry import MODELS, init_default_scope
from mmyolo.datasets.utils import yolov5_collate

from mmfasternet import FasterNet
from mmfasternet.models.backbone_swap import UnsupportedSwap, swap_in_fasternet

T0 = [80, 160, 320]  # FasterNet-T0 at strides 8, 16, 32


@pytest.fixture(autouse=True)
def mmyolo_scope():
    init_default_scope('mmyolo')  # the zoo's configs set default_scope='mmyolo'


def build(cfg):
    torch.manual_seed(0)
    model = revert_sync_batchnorm(MODELS.build(cfg.model))  # SyncBN, on one CPU process
    model.init_weights()
    return model


def head_shapes(cfg_or_model):
    """The shapes of the head's parameters and buffers (of a config: built, not initialised,
    which would download the zoo backbone's weights)."""
    model = cfg_or_model if isinstance(cfg_or_model, torch.nn.Module) else \
        MODELS.build(cfg_or_model.model)
    return {key: tuple(value.shape) for key, value in model.bbox_head.state_dict().items()}


# config: (the neck's in_channels and out_channels, the head module's in_channels); the neck
# and head module widen nothing after the swap (widen_factor 1.0)
TRAINED = {
    # YOLOv5's and YOLOv8's PAFPN give their outputs their inputs' widths: the head module
    # reads FasterNet's.
    'yolov5/yolov5_s-v61_syncbn_fast_8xb16-300e_coco.py': ((T0, T0), T0),
    'yolov8/yolov8_s_syncbn_fast_8xb16-500e_coco.py': ((T0, T0), T0),
    # CSPNeXtPAFPN keeps its own width, 256 x 0.5; so does the head (widen_factor 0.5).
    'rtmdet/rtmdet_s_syncbn_fast_8xb32-300e_coco.py': ((T0, 128), None),
}


def train_and_predict_batches():
    """Two 128 px images with 3 and 2 boxes of mmdet's demo data: the training batch as
    mmyolo's fast collate (``yolov5_collate``) gives it, and the test batch as mmdet's."""
    packed = demo_mm_inputs(batch_size=2, image_shapes=[(3, 128, 128)] * 2, num_items=[3, 2],
                            num_classes=80, use_box_type=True)
    train = yolov5_collate([dict(inputs=image, data_samples=sample) for image, sample in
                            zip(packed['inputs'], packed['data_samples'])])
    assert train['data_samples']['bboxes_labels'].shape == (5, 6)
    return train, packed


@pytest.mark.parametrize('config', sorted(TRAINED))
def test_fasternet_trains_and_predicts_in_mmyolo_detectors(config):
    original = get_config(f'mmyolo::{config}')
    assert original.default_scope == 'mmyolo'
    cfg = swap_in_fasternet(original, 't0')
    # Nothing of the old backbone (deepen_factor, widen_factor, init_cfg) reaches FasterNet.
    assert cfg.model.backbone == dict(type='FasterNet', arch='t0', out_indices=(1, 2, 3))
    (neck_in, neck_out), head_in = TRAINED[config]
    neck = cfg.model.neck
    assert (neck.in_channels, neck.out_channels, neck.widen_factor) == (neck_in, neck_out, 1.0)
    head_module = cfg.model.bbox_head.head_module
    if head_in is not None:
        assert (head_module.in_channels, head_module.widen_factor) == (head_in, 1.0)
    else:
        assert head_module == original.model.bbox_head.head_module
    cfg.model.test_cfg.score_thr = 0.0  # random weights: keep every box up to max_per_img

    model = build(cfg)
    assert isinstance(model.backbone, FasterNet)
    if head_in is None:  # the head is built as in the zoo's config
        assert head_shapes(model) == head_shapes(original)
    train, test = train_and_predict_batches()
    # The neck reads FasterNet's outputs as they are: its first convs take T0's widths.
    feats = model.backbone(torch.rand(1, 3, 64, 64))
    assert [feat.shape[1] for feat in feats] == T0
    model.neck(feats)

    model.train()
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-3))
    before = model.backbone.patch_embed.proj.weight.detach().clone()
    losses = model.train_step(train, optim_wrapper)
    assert torch.isfinite(losses['loss'])
    assert not torch.equal(before, model.backbone.patch_embed.proj.weight)

    model.eval()
    with torch.no_grad():
        results = model.test_step(test)
    assert len(results) == 2
    for result in results:
        instances = result.pred_instances
        assert instances.bboxes.ndim == 2 and instances.bboxes.shape[1] == 4
        assert 0 < len(instances.bboxes) <= cfg.model.test_cfg.max_per_img
        assert len(instances.scores) == len(instances.labels) == len(instances.bboxes)


# config: (FasterNet's out_indices, the neck's in_channels, whether the neck passes the widths
# on to the head module)
FAMILIES = {
    'yolov5/ins_seg/yolov5_ins_s-v61_syncbn_fast_8xb16-300e_coco_instance.py':
        ((1, 2, 3), T0, True),
    'yolov5/yolov5u/yolov5u_s_syncbn_fast_8xb16-300e_coco.py': ((1, 2, 3), T0, True),
    # widen_factor 0.375: the neck's own widths are no whole multiple of T0's.
    'yolov6/yolov6_t_syncbn_fast_8xb32-300e_coco.py': ((1, 2, 3), T0, False),
    # YOLOv6 3.0's BiPAFPN also reads the stride-4 output.
    'yolov6/yolov6_v3_s_syncbn_fast_8xb32-300e_coco.py': ((0, 1, 2, 3), [40, *T0], False),
    'yolov6/yolov6_m_syncbn_fast_8xb32-300e_coco.py': ((1, 2, 3), T0, False),
    # YOLOv7-Tiny's stem is at stride 4 and its first stage keeps it.
    'yolov7/yolov7_tiny_syncbn_fast_8x16b-300e_coco.py': ((1, 2, 3), T0, False),
    'yolov7/yolov7_l_syncbn_fast_8x16b-300e_coco.py': ((1, 2, 3), T0, False),
    'yolox/yolox_s_fast_8xb8-300e_coco.py': ((1, 2, 3), T0, False),
    'ppyoloe/ppyoloe_plus_s_fast_8xb8-80e_coco.py': ((1, 2, 3), T0, False),
    'rtmdet/rtmdet-ins_s_syncbn_fast_8xb32-300e_coco.py': ((1, 2, 3), T0, False),
}


@pytest.mark.parametrize('config', sorted(FAMILIES))
def test_each_mmyolo_family_builds_and_runs_with_fasternet(config):
    original = get_config(f'mmyolo::{config}')
    cfg = swap_in_fasternet(original, 't0')
    out_indices, neck_in, passes = FAMILIES[config]
    assert cfg.model.backbone == dict(type='FasterNet', arch='t0', out_indices=out_indices)
    assert cfg.model.neck.in_channels == neck_in
    assert cfg.model.neck.get('widen_factor', 1.0) == 1.0
    model = build(cfg)
    if passes:
        assert cfg.model.bbox_head.head_module.in_channels == T0
    else:  # the neck's outputs and the head are built as in the zoo's config
        assert head_shapes(model) == head_shapes(original)
    model.eval()
    with torch.no_grad():
        feats = model.extract_feat(torch.rand(1, 3, 64, 64))
        outputs = model.bbox_head(feats)
    assert len(feats) == 3 and all(len(output) == 3 for output in outputs[:2])


@pytest.mark.parametrize('config, arch, words', [
    # A P6 model's fourth output is at stride 64.
    ('yolov5/yolov5_s-p6-v62_syncbn_fast_8xb16-300e_coco.py', 't0',
     ('backbone YOLOv5CSPDarknet, neck YOLOv5PAFPN', 'stride 64')),
    ('yolov7/yolov7_w-p6_syncbn_fast_8x16b-300e_coco.py', 't0',
     ('backbone YOLOv7Backbone, neck YOLOv7PAFPN', 'stride 64')),
    # YOLOv8's neck rounds its widths up to multiples of 8: 84 would be read as 88.
    ('yolov8/yolov8_s_syncbn_fast_8xb16-500e_coco.py', dict(embed_dims=42, depths=[1, 2, 8, 2]),
     ('backbone YOLOv8CSPDarknet, neck YOLOv8PAFPN', 'multiples of 8', '[84, 168, 336]')),
])
def test_what_cannot_swap_in_mmyolo_says_why_in_one_line(config, arch, words):
    with pytest.raises(UnsupportedSwap) as error:
        swap_in_fasternet(get_config(f'mmyolo::{config}'), arch)
    message = str(error.value)
    assert len(message.splitlines()) == 1, message
    missing = [word for word in words if word not in message]
    assert not missing, f'{message!r} does not say {missing}'
