"""FasterNet in mmdet's multi-object trackers: ByteTrack's YOLOX detector with a FasterNet
backbone tracks the objects of a short synthetic video."""
import torch
from mmdet.registry import MODELS
from mmdet.testing import demo_track_inputs
from mmengine.hub import get_config
from mmengine.registry import init_default_scope

from mmfasternet.models.backbone_swap import swap_in_fasternet

BYTETRACK = 'bytetrack/bytetrack_yolox_x_8xb4-80e_crowdhuman-mot17halftrain_test-mot17halfval.py'


def test_bytetrack_with_a_fasternet_yolox_keeps_the_ids_of_still_objects():
    init_default_scope('mmdet')
    cfg = get_config(f'mmdet::{BYTETRACK}')
    detector = swap_in_fasternet(cfg.model.detector, 't0')
    assert detector.backbone.out_indices == (1, 2, 3)
    assert detector.neck.in_channels == [80, 160, 320]
    detector.init_cfg = None  # the config's YOLOX-X weights
    # Random weights score every box low: let the tracker start a track from any of them,
    # and match boxes by their overlap alone.
    detector.test_cfg.score_thr = 0.
    cfg.model.tracker.update(init_track_thr=0., obj_score_thrs=dict(high=0., low=0.),
                             weight_iou_with_det_scores=False)
    cfg.model.detector = detector
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()

    packed = demo_track_inputs(batch_size=1, num_frames=3, image_shapes=(3, 128, 160),
                               num_items=[2])
    packed['inputs'][0][1:] = packed['inputs'][0][0]  # a still scene: three equal frames
    with torch.no_grad():
        video = model.test_step(packed)[0]
    frames = [video[i].pred_track_instances for i in range(3)]
    assert len(frames[0]) > 0
    for frame in frames:
        assert frame.bboxes.shape == (len(frame), 4)
        assert len(frame.instances_id) == len(frame.scores) == len(frame)
    # Equal frames give equal detections: every track goes on under its own id.
    assert sorted(frames[2].instances_id.tolist()) == sorted(frames[1].instances_id.tolist())
    assert sorted(frames[1].instances_id.tolist()) == sorted(frames[0].instances_id.tolist())
