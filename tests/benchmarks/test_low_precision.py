"""Every runtime and precision of the deploy path (benchmarks/lab/low_precision.py): the
models deployed and quantised for each runtime, their calls at batch 1 and in a batch, how
they are timed, their tables and record; and the whole Mask R-CNN's calls in both forms of
its masks (no timing is asserted)."""
import numpy as np
import pytest
import torch

from benchmarks.lab.low_precision import (RUNTIME_PRECISIONS, batch_calls, benchmark_record,
                                          deployed_files, images_per_s, random_images, ratio_table,
                                          row_file, runnable_rows, settled_latency_ms,
                                          throughput_table)
from conftest import REPO, randomize_norms
from mmfasternet import FasterNet
from mmfasternet.deploy import RUNTIMES, export_onnx, open_runtime

pytestmark = pytest.mark.deploy


def tiny_backbone() -> FasterNet:
    torch.manual_seed(0)
    return randomize_norms(FasterNet(dict(embed_dims=16, depths=[1, 1, 1, 1]))).eval()


def test_random_images_are_the_same_for_a_seed_and_standard_normal():
    first, again = random_images(2, (1, 3, 8, 8), seed=3), random_images(2, (1, 3, 8, 8), seed=3)
    assert [sorted(feeds) for feeds in first] == [['image'], ['image']]
    assert all(f['image'].shape == (1, 3, 8, 8) and f['image'].dtype == np.float32
               for f in first)
    assert all(np.array_equal(a['image'], b['image']) for a, b in zip(first, again))
    assert not np.array_equal(first[0]['image'], first[1]['image'])
    assert not np.array_equal(first[0]['image'], random_images(1, (1, 3, 8, 8), 4)[0]['image'])
    many = random_images(1, (100_000, ), seed=0)[0]['image']
    assert abs(many.mean()) < 0.02 and abs(many.std() - 1) < 0.02


def test_deployed_files_are_the_folded_model_and_an_int8_model_for_every_runtime(tmp_path):
    model = tiny_backbone()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = model(x)[-1].numpy()
    fp32, int8 = deployed_files(model, str(tmp_path / 'tiny.onnx'), (1, 3, 64, 64),
                                random_images(2, (1, 3, 64, 64)))
    assert fp32 == str(tmp_path / 'tiny.onnx') and not model.deploy  # folded a copy
    assert int8 == {name: str(tmp_path / f'tiny_int8{runtime.int8_suffix}')
                    for name, runtime in RUNTIMES.items()}
    got = open_runtime(fp32).run(dict(image=x.numpy()))[-1]  # a dynamic batch axis
    assert got.shape == (2, 128, 2, 2) and np.abs(got - expected).max() < 1e-4
    for name, path in int8.items():
        out = open_runtime(path, name).run(dict(image=x.numpy()))[-1]
        assert out.shape == (2, 128, 2, 2)
        assert np.corrcoef(out.ravel(), expected.ravel())[0, 1] > 0.99, name


def test_a_row_runs_the_fp32_file_at_its_precision_or_the_runtime_s_int8_file_as_it_is():
    int8 = dict(onnxruntime='m_int8.onnx', openvino='m_int8.xml')
    assert row_file('m.onnx', int8, 'openvino', 'bf16') == ('m.onnx', 'bf16')
    assert row_file('m.onnx', int8, 'onnxruntime', 'fp32') == ('m.onnx', 'fp32')
    assert row_file('m.onnx', int8, 'openvino', 'int8') == ('m_int8.xml', 'fp32')


def test_only_a_precision_the_cpu_runs_fast_is_a_row(monkeypatch):
    assert ('openvino', 'bf16') in RUNTIME_PRECISIONS
    monkeypatch.setattr(RUNTIMES['openvino'], 'runs_fast', lambda precision: precision != 'bf16')
    assert ('openvino', 'bf16') not in runnable_rows()
    assert runnable_rows() == [row for row in RUNTIME_PRECISIONS if row != ('openvino', 'bf16')]
    monkeypatch.setattr(RUNTIMES['openvino'], 'runs_fast', lambda precision: True)
    assert runnable_rows() == list(RUNTIME_PRECISIONS)


def test_batch_calls_run_a_batch_in_every_runtime_keyed_by_batch_and_threads(tmp_path):
    path = str(tmp_path / 'tiny.onnx')
    export_onnx(tiny_backbone(), path, shape=(1, 3, 64, 64))
    rows = [(name, 'fp32') for name in sorted(RUNTIMES)]
    feeds = random_images(1, (4, 3, 64, 64))[0]
    calls = batch_calls(dict(tiny=(path, {})), feeds, 1, rows)
    assert sorted(calls) == [('tiny', name, 'fp32', 4, 1) for name in sorted(RUNTIMES)]
    for fn, x in calls.values():
        assert fn(x)[-1].shape == (4, 128, 2, 2)


def test_a_call_is_settled_by_runs_at_batch_1_and_warmed_once_in_a_batch(monkeypatch):
    monkeypatch.setattr('benchmarks.lab.low_precision.SETTLE_S', 0.0)
    runs = []
    ms = settled_latency_ms(dict(a=(runs.append, 'a'), b=(runs.append, 'b')), rounds=2)
    assert sorted(ms) == ['a', 'b']
    # 3 warm-up runs, then each turn: SETTLE_RUNS (2) untimed runs and the timed one.
    assert runs == ['a'] * 3 + ['b'] * 3 + (['a'] * 3 + ['b'] * 3) * 2
    runs.clear()
    settled_latency_ms(dict(a=(runs.append, 'a'), b=(runs.append, 'b')), rounds=2, batch=8)
    assert runs == ['a', 'b'] + ['a', 'b'] * 2


def test_the_tables_give_each_model_s_figure_and_each_pair_s_ratio():
    latency = {('s', 'openvino', 'int8'): 4.0, ('r50', 'openvino', 'int8'): 8.0}
    assert ratio_table(latency, ['s', 'r50'], [('s', 'r50')], [('openvino', 'int8')]) == [
        '| runtime | precision | s | r50 | s / r50 |', '|---|---|---|---|---|',
        '| openvino | int8 | 4.00 | 8.00 | 0.50 |']
    assert images_per_s(32, 250.0) == 128.0
    throughput = {('s', 'onnxruntime', 'fp32', 32, 1): 250.0,
                  ('r50', 'onnxruntime', 'fp32', 32, 1): 1000.0}
    assert throughput_table(throughput, ['s', 'r50'], [('s', 'r50')], [('onnxruntime', 'fp32')],
                            [1])[2:] == ['| onnxruntime | fp32 | 1 | 128.0 | 32.0 | 4.00 |']


def test_the_record_names_the_cpu_and_its_flags_and_has_a_row_per_timing(monkeypatch):
    monkeypatch.setattr('benchmarks.lab.low_precision.cpu_name_and_flags',
                        lambda: ('Test CPU', ['avx512_vnni']))
    record = benchmark_record({('fasternet_t0', 'openvino', 'int8'): 3.14159}, threads=1)
    assert record == dict(cpu='Test CPU', flags=['avx512_vnni'], rows=[dict(
        model='fasternet_t0', runtime='openvino', precision='int8', batch=1, threads=1,
        median_ms=3.142)])
    record = benchmark_record({}, threads=1, throughput={
        ('fasternet_t0', 'onnxruntime', 'fp32', 32, 2): 250.0})
    assert record['rows'] == [dict(model='fasternet_t0', runtime='onnxruntime', precision='fp32',
                                   batch=32, threads=2, median_ms=250.0, images_per_s=128.0)]


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
