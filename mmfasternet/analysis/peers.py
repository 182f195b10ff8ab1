"""FasterNet and the peers the paper compares it with, as the benchmarks and their tests
pair them."""

# FasterNet against its peer on every inference path (mmpretrain model names).
PATH_PAIRS = (('fasternet_s', 'resnet50_8xb32_in1k'),
              ('fasternet_t0', 'mobilenet-v2_8xb32_in1k'))

# Detector and segmentor with FasterNet-S against the same with ResNet-50:
# (FasterNet-S config, ResNet-50 config, input height and width).
DENSE_PAIRS = {
    'Mask R-CNN': ('mmfasternet::mask_rcnn_fasternet_s.py',
                   'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py', (800, 1333)),
    'UperNet': ('mmfasternet::upernet_fasternet_s.py',
                'mmseg::upernet/upernet_r50_4xb4-160k_ade20k-512x512.py', (512, 512)),
}
