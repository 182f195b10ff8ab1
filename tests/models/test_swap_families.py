"""A representative of each backbone family and reader kind that the swap rule reaches beyond
ResNet-shaped configs, from the libraries' own model zoos: swapped to FasterNet-T0, each
takes one training step and predicts. The rule's choice (FasterNet's stages, the readers'
widths) is checked first, then that the model runs with it."""
import pytest
import torch
from mmengine.hub import get_config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import MODELS, init_default_scope
from mmengine.structures import PixelData

from conftest import train_step_then_predict
from mmfasternet.models.backbone_swap import UnsupportedSwap, swap_in_fasternet


def seg_inputs(size=128, classes=150):
    from mmseg.structures import SegDataSample
    gen = torch.Generator().manual_seed(0)
    samples = []
    for _ in range(2):
        sample = SegDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size),
                                             pad_shape=(size, size)))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, classes, (1, size, size),
                                                         generator=gen))
        samples.append(sample)
    return dict(inputs=[torch.randint(0, 255, (3, size, size), generator=gen,
                                      dtype=torch.uint8) for _ in range(2)],
                data_samples=samples)


def det_inputs():
    from mmdet.testing import demo_mm_inputs
    return demo_mm_inputs(batch_size=1, image_shapes=[(3, 128, 160)], num_items=[3],
                          num_classes=80)


def pose_inputs(cfg):
    from mmpose.testing import get_packed_inputs
    codec = cfg.codec
    w, h = codec['input_size']
    return get_packed_inputs(batch_size=2, img_shape=(h, w), input_size=(w, h),
                             heatmap_size=codec.get('heatmap_size', (w // 4, h // 4)),
                             simcc_split_ratio=codec.get('simcc_split_ratio', 2.0),
                             num_keypoints=cfg.model.head.out_channels)


def widths(model, path):
    node = model
    for key in path.split('.'):
        node = node[int(key)] if key.isdigit() else node[key]
    return node


# config: (FasterNet's out_indices, {reader: what it reads}) with FasterNet-T0
# (widths 40, 80, 160, 320 at strides 4, 8, 16, 32)
FAMILIES = {
    # HRNet's four branches, read by an FCN head that concatenates them all.
    'mmseg::hrnet/fcn_hr18s_4xb4-40k_voc12aug-512x512.py':
        ((0, 1, 2, 3), {'decode_head.in_channels': [40, 80, 160, 320]}),
    'mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py':
        ((0, 1, 2, 3), {'decode_head.in_channels': [40, 80, 160, 320]}),
    # KNet's kernel generator is a head inside its iterative decode head.
    'mmseg::knet/knet-s3_r50-d8_fcn_8xb2-adamw-80k_ade20k-512x512.py':
        ((0, 1, 2, 3), {'decode_head.kernel_generate_head.in_channels': 320,
                        'auxiliary_head.in_channels': 160}),
    # A dilated ResNet's stages 2 and 3 share stride 8: OCRNet's cascade reads one output.
    'mmseg::ocrnet/ocrnet_r101-d8_4xb2-40k_cityscapes-512x1024.py':
        ((0, 1, 2, 3), {'decode_head.0.in_channels': 320, 'decode_head.1.in_channels': 320}),
    # A plain ViT's four stride-16 outputs become strides 4-32 in its MultiLevelNeck.
    'mmseg::vit/vit_deit-s16_mln_upernet_8xb2-160k_ade20k-512x512.py':
        ((0, 1, 2, 3), {'neck.in_channels': [40, 80, 160, 320], 'neck.scales': [1, 1, 1, 1]}),
    # C4: the RoI head runs ResNet's last stage on every RoI, fed by a 1x1 ChannelMapper.
    'mmdet::faster_rcnn/faster-rcnn_r50-caffe_c4-1x_coco.py':
        ((2, ), {'neck.in_channels': [160], 'neck.out_channels': 1024,
                 'rpn_head.in_channels': 1024}),
    # DC5: ResNet's stage 3 runs at stride 16, which is FasterNet's stage 2.
    'mmdet::faster_rcnn/faster-rcnn_r50-caffe-dc5_1x_coco.py':
        ((2, ), {'rpn_head.in_channels': 160, 'roi_head.bbox_roi_extractor.out_channels': 160,
                 'roi_head.bbox_head.in_channels': 160}),
    # mmpose's HRNet returns its stride-4 branch only.
    'mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_hrnet-w32_8xb64-210e_coco-256x192.py':
        ((0, ), {'head.in_channels': 40}),
    # RTMW's PAFPN without out_channels passes the widths on to the head.
    'mmpose::wholebody_2d_keypoint/rtmpose/cocktail14/rtmw-m_8xb1024-270e_cocktail14-256x192'
    '.py': ((1, 2, 3), {'neck.in_channels': [80, 160, 320], 'head.in_channels': 320}),
    # ResNetV1d(**kwargs) leaves out_indices to ResNet, whose default in mmpose is (3, ).
    'mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_resnetv1d50_8xb64-210e_coco-256x192'
    '.py': ((3, ), {'head.in_channels': 320}),
}


@pytest.mark.parametrize('config', sorted(FAMILIES))
def test_fasternet_trains_and_predicts_in_each_family(config):
    library = config.split('::')[0]
    init_default_scope(library)
    original = get_config(config)
    if 'resnetv1d' in config:
        assert 'out_indices' not in original.model.backbone
    cfg = swap_in_fasternet(original, 't0')
    out_indices, readers = FAMILIES[config]
    assert cfg.model.backbone.out_indices == out_indices
    for path, expected in readers.items():
        assert widths(cfg.model, path) == expected, path
    if library == 'mmseg':
        cfg.model.data_preprocessor.size = (128, 128)
    if 'shared_head' in cfg.model.get('roi_head', {}):
        cfg.model.roi_head.shared_head.init_cfg = None  # ResNet-50's res5 weights, offline
        cfg.model.train_cfg.rcnn.sampler.num = 16  # ResNet's res5 on 512 RoIs is slow
        cfg.model.test_cfg.rpn.max_per_img = 16
    torch.manual_seed(0)
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    model.init_weights()
    if library == 'mmseg':
        heads = cfg.model.decode_head
        packed = seg_inputs(classes=(heads[-1] if isinstance(heads, list) else heads).get(
            'num_classes', 150))
    else:
        packed = det_inputs() if library == 'mmdet' else pose_inputs(cfg)
    results = train_step_then_predict(model, packed)
    if library == 'mmseg':
        assert results[0].pred_sem_seg.data.shape == (1, 128, 128)
    elif library == 'mmdet':
        assert results[0].pred_instances.bboxes.shape[1] == 4
    else:
        keypoints = results[0].pred_instances.keypoints
        assert keypoints.shape == (1, cfg.model.head.out_channels, 2)


# config: the words of the reason its one line gives, before anything is built
REFUSED = {
    'mmpose::body_3d_keypoint/image_pose_lift/h36m/image-pose-lift_tcn_8xb64-200e_h36m.py':
        ('backbone TCN, neck none', 'keypoint sequences, not images'),
    'mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_hourglass52_8xb32-210e_coco-256x256'
    '.py': ('backbone HourglassNet, neck none', 'no pyramid'),
    'mmseg::unet/unet-s5-d16_fcn_4xb4-40k_drive-64x64.py':
        ('backbone UNet, neck none', 'encoder-decoder'),
    'mmdet::detectors/detectors_htc-r50_1x_coco.py':
        ('backbone DetectoRS_ResNet, neck RFP', 'runs a ResNet of its own'),
    'mmseg::beit/beit-base_upernet_8xb2-160k_ade20k-640x640.py':
        ('backbone BEiT, neck Feature2Pyramid', 'one width'),
    'mmseg::vit/vit_deit-s16_upernet_8xb2-80k_ade20k-512x512.py':
        ('backbone VisionTransformer, neck none', 'strides (16, 16, 16, 16)',
         'one output per stride'),
    'mmdet::rtmdet/rtmdet_x_p6_4xb8-300e_coco.py':
        ('backbone CSPNeXt, neck CSPNeXtPAFPN', 'stride 64', 'strides 4, 8, 16 and 32'),
    'mmdet::rtmdet/rtmdet_l_convnext_b_4xb32-100e_coco.py':
        ('backbone ConvNeXt, neck CSPNeXtPAFPN', 'GroupNorm of 32 groups',
         'FasterNet t1, t2, s, m, l', 'num_groups=16'),
}


@pytest.mark.parametrize('config', sorted(REFUSED))
def test_what_cannot_swap_says_why_in_one_line_naming_its_types(config):
    init_default_scope(config.split('::')[0])
    with pytest.raises(UnsupportedSwap) as error:
        swap_in_fasternet(get_config(config), 't0')
    message = str(error.value)
    assert len(message.splitlines()) == 1, message
    missing = [words for words in REFUSED[config] if words not in message]
    assert not missing, f'{message!r} does not say {missing}'
