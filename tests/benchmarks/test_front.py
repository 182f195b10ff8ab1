"""The latency-accuracy front (benchmarks/lab/front.py): which models no other beats both in
speed and in cited top-1, and which peers beat a FasterNet, like for like first."""
from benchmarks.lab.front import beaten_by, flag_marks, front_verdicts, label, on_front
from benchmarks.lab.peers import cited_top1


def test_a_fasternet_is_beaten_only_by_a_peer_both_faster_and_as_accurate():
    ms = dict(fasternet_t0=3.0, lcnet_100=2.0, mobilenetv2_100=4.0, repvit_m1_0=1.0,
              mobileone_s0=2.5)
    top1 = {name: cited_top1(name)['top1'] for name in ms}  # 71.9 / 71.32 / 72.0 / 80.0 / 71.4
    assert beaten_by('fasternet_t0', ms, top1) == ['repvit_m1_0']
    assert on_front(ms, top1) == ['repvit_m1_0']
    verdict = front_verdicts(ms, top1)['fasternet_t0']
    assert verdict.startswith('beaten by RepViT-M1.0*')  # distilled: marked as such
    ms['mobilenetv2_100'] = 2.9  # now a like-for-like peer beats it too: named first, alone
    assert front_verdicts(ms, top1)['fasternet_t0'] == 'beaten by MobileNetV2 (2.9 ms, 72.0%)'
    ms.update(repvit_m1_0=9.5, mobilenetv2_100=9.0)
    assert front_verdicts(ms, top1)['fasternet_t0'] == 'on the front'
    assert on_front(ms, top1) == [
        'lcnet_100', 'mobileone_s0', 'fasternet_t0', 'mobilenetv2_100', 'repvit_m1_0']


def test_a_label_marks_a_top1_reached_otherwise_than_fasternet_s():
    assert flag_marks('fasternet_t0') == '' and label('fasternet_t0') == 'FasterNet-T0'
    assert label('lcnet_100') == 'PP-LCNet-1.0^'  # 360 epochs
    assert label('repvit_m1_0').startswith('RepViT-M1.0*')  # distilled
