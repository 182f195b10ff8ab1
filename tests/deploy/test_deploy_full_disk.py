"""Exported and quantised files are written whole or not at all: on a disk too small for
them the tools stop with one line naming the file, the space it needs and what is free, and
leave the previous files as they were and nothing half-written."""
import os.path as osp
import re

import numpy as np
import pytest

from conftest import REPO, assert_says, last_line, run_limited, stops
from mmfasternet import FasterNet
from mmfasternet.deploy import RUNTIMES, export_onnx
from mmfasternet.deploy.quantization import quantize_model
from mmfasternet.fileio import NoSpaceLeft

EXPORT = osp.join(REPO, 'tools', 'deployment', 'pytorch2onnx.py')


@pytest.mark.long
@pytest.mark.parametrize('small_disk', [6], indirect=True)
def test_an_export_that_does_not_fit_stops_with_one_line(small_disk):
    folder, prefix = small_disk
    out = folder / 't0.onnx'
    out.write_bytes(b'previous')
    result = run_limited(prefix, EXPORT, 'configs/fasternet_t0_in1k.py', str(out))
    stops(result)
    message = last_line(result)
    assert_says(message, f'pytorch2onnx: no space left to write {out}: ',
                ' MiB are free; nothing was written')
    # The classifier is some 15 MiB (14.9 from torch 2.1's exporter): its size is known
    # before writing.
    assert re.search(r'it needs 1[45]\.\d MiB, ', message), message
    assert out.read_bytes() == b'previous'
    assert [p.name for p in folder.iterdir()] == ['t0.onnx']


@pytest.fixture(scope='module')
def fp32_file(tmp_path_factory):
    """FasterNet-T0's backbone exported at 1x3x64x64 (9 MB; some 2.4 MB in int8)."""
    path = str(tmp_path_factory.mktemp('fp32') / 't0.onnx')
    export_onnx(FasterNet('t0', out_indices=(3, )).eval(), path, shape=(1, 3, 64, 64))
    return path


@pytest.mark.parametrize('small_disk', [1], indirect=True)
@pytest.mark.parametrize('backend', sorted(RUNTIMES))
def test_an_int8_file_that_does_not_fit_keeps_the_previous_one(fp32_file, small_tmpfs,
                                                               backend):
    runtime = RUNTIMES[backend]
    out = str(small_tmpfs / f't0_int8{runtime.int8_suffix}')
    files = runtime.files_of(out)  # OpenVINO: the .xml and its .bin
    for path in files:
        with open(path, 'w') as f:
            f.write('previous')
    feeds = [dict(image=np.random.default_rng(i).standard_normal((1, 3, 64, 64), np.float32))
             for i in range(2)]
    with pytest.raises(NoSpaceLeft) as error:
        quantize_model(fp32_file, out, feeds, backend)
    assert_says(str(error.value), 'no space left to write ', *files, 'it needs 2.',
                ' KiB are free; nothing was written')
    assert [open(path).read() for path in files] == ['previous'] * len(files)
    assert sorted(p.name for p in small_tmpfs.iterdir()) == sorted(map(osp.basename, files))
