"""The low-precision benchmark's throughput rows: batch calls in every runtime, keyed by batch
and threads, and their record (a smoke test on a tiny backbone; no timing is asserted)."""
import numpy as np
import pytest
import torch

from benchmarks.lab.latency import interleaved_latency_ms
from benchmarks.lab.low_precision import batch_calls, benchmark_record
from conftest import REPO, randomize_norms
from mmfasternet import FasterNet
from mmfasternet.deploy import RUNTIMES, export_onnx

pytestmark = pytest.mark.deploy


def test_batch_calls_run_a_batch_in_every_runtime_and_make_throughput_rows(tmp_path):
    torch.manual_seed(0)
    model = randomize_norms(FasterNet(dict(embed_dims=16, depths=[1, 1, 1, 1]))).eval()
    path = str(tmp_path / 'tiny.onnx')
    export_onnx(model, path, shape=(1, 3, 64, 64))  # a dynamic batch axis
    rows = [(name, 'fp32') for name in sorted(RUNTIMES)]
    feeds = dict(image=np.random.default_rng(0).standard_normal((4, 3, 64, 64), np.float32))
    calls = batch_calls(dict(tiny=(path, {})), feeds, 1, rows)
    assert sorted(calls) == [('tiny', name, 'fp32', 4, 1) for name in sorted(RUNTIMES)]
    for fn, x in calls.values():
        assert fn(x)[-1].shape[0] == 4
    ms = interleaved_latency_ms(calls, rounds=1, per_round=1, warmup=0)
    record = benchmark_record({}, 1, ms)
    assert [(row['runtime'], row['batch'], row['threads']) for row in record['rows']] == [
        (name, 4, 1) for name in sorted(RUNTIMES)]
    for row in record['rows']:
        assert row['images_per_s'] == pytest.approx(4e3 / row['median_ms'], rel=1e-2)


def test_detector_calls_time_both_forms_of_masks_as_the_test_loop_runs_them(tmp_path):
    from benchmarks.lab.detector_latency import busy_detector, detector_calls
    from mmfasternet.deploy.mask_rcnn_graph import MASK_FORMS
    from mmfasternet.deploy.tasks import DETECTOR
    shape = (128, 160)
    detector = busy_detector(f'{REPO}/configs/toy/mask_rcnn_fasternet_t0_toy.py', shape)
    files = {}
    for form in MASK_FORMS:
        files[form] = str(tmp_path / f'{form}.onnx'), {}
        DETECTOR.export(detector, files[form][0], shape, masks=form)
    rows = [(name, 'fp32') for name in sorted(RUNTIMES)]
    calls = detector_calls('toy', detector, files, torch.randn(1, 3, *shape), 1, rows)
    assert sorted(calls) == sorted(('toy', form, *row) for form in MASK_FORMS for row in rows)
    for runtime, _ in rows:
        box, image = (calls['toy', form, runtime, 'fp32'] for form in ('box', 'image'))
        box, image = box[0](box[1]), image[0](image[1])
        assert len(box['boxes']) == 100  # busy: the config's max_per_img
        assert box['masks'].shape == (100, *shape) and torch.equal(box['masks'], image['masks'])


def test_benchmark_record_names_the_cpu_and_its_flags():
    record = benchmark_record({('fasternet_t0', 'openvino', 'int8'): 3.14159}, threads=1)
    assert set(record) == {'cpu', 'flags', 'rows'} and record['cpu']
    assert set(record['flags']) <= {'avx512_vnni', 'avx512_bf16', 'amx_int8', 'amx_bf16'}
    with open('/proc/cpuinfo') as f:
        flags = set(next(line for line in f if line.startswith('flags')).split())
    assert set(record['flags']) == flags & {'avx512_vnni', 'avx512_bf16', 'amx_int8',
                                            'amx_bf16'}
    assert record['rows'] == [dict(model='fasternet_t0', runtime='openvino', precision='int8',
                                   batch=1, threads=1, median_ms=3.142)]
    record = benchmark_record({}, threads=1, throughput={
        ('fasternet_t0', 'onnxruntime', 'fp32', 32, 2): 250.0})
    assert record['rows'] == [dict(model='fasternet_t0', runtime='onnxruntime', precision='fp32',
                                   batch=32, threads=2, median_ms=250.0, images_per_s=128.0)]
