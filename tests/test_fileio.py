"""Outputs are replaced in one step: a failure keeps the old file and leaves no temporary; a
full disk is one message naming the file, the space it needed and what is free."""
import os
import os.path as osp
import re
import signal
import subprocess
import sys

import cv2
import matplotlib
import pytest

from conftest import assert_says, no_space_message
from mmfasternet.fileio import (NoSpaceLeft, replaced_atomically, save_figure_atomically,
                                staged_files, write_image_atomically, write_json_atomically)

matplotlib.use('Agg')


def test_a_failed_write_keeps_the_old_file_and_cleans_up(tmp_path):
    path = tmp_path / 'out.json'
    path.write_text('old')
    with pytest.raises(RuntimeError, match='disk full'):
        with replaced_atomically(str(path)) as tmp:
            with open(tmp, 'w') as f:
                f.write('half')
            raise RuntimeError('disk full')
    assert path.read_text() == 'old'
    assert [p.name for p in tmp_path.iterdir()] == ['out.json']


def test_a_write_that_cannot_serialise_changes_nothing(tmp_path):
    path = tmp_path / 'metrics.json'
    write_json_atomically(dict(mAP=0.5), str(path))
    with pytest.raises(TypeError):
        write_json_atomically(dict(mAP=object()), str(path))
    assert path.read_text() == '{"mAP": 0.5}'
    assert [p.name for p in tmp_path.iterdir()] == ['metrics.json']


@pytest.mark.parametrize('small_disk', [1], indirect=True)
def test_a_file_a_library_writes_past_the_disk_keeps_the_old_one(small_disk):
    folder, prefix = small_disk
    path = folder / 'out.bin'
    path.write_bytes(b'old')
    message = no_space_message(prefix, (
        f'from mmfasternet.fileio import replaced_atomically\n'
        f'with replaced_atomically({str(path)!r}) as tmp, open(tmp, "wb") as f:\n'
        f'    f.write(b"x" * 2 * 2**20)'))
    # Its size is not known before writing: more than what fitted (the tmpfs holds the old
    # file too; the file size limit is 1 MiB).
    assert_says(message, f'no space left to write {path}: it needs more than ',
                ' are free; nothing was written')
    assert re.search(r'needs more than (1020\.0 KiB|1\.0 MiB), [\d.]+ [KM]iB are free',
                     message), message
    assert path.read_bytes() == b'old'
    assert [p.name for p in folder.iterdir()] == ['out.bin']


def test_staged_files_install_the_entry_file_last(tmp_path, monkeypatch):
    xml, bin_ = str(tmp_path / 'model.xml'), str(tmp_path / 'model.bin')
    for path in (xml, bin_):
        with open(path, 'w') as f:
            f.write('old')
    replaced, os_replace = [], os.replace

    def replace(src, dst):  # what a reader would find at each step
        replaced.append((osp.basename(dst), osp.exists(xml)))
        os_replace(src, dst)

    monkeypatch.setattr(os, 'replace', replace)
    with staged_files([bin_, xml]) as staged:
        assert [osp.basename(staged[p]) for p in (bin_, xml)] == ['model.bin', 'model.xml']
        for path in (bin_, xml):
            with open(staged[path], 'w') as f:
                f.write(f'new {osp.basename(path)}')
    # The old .xml went first: no reader pairs it with the new .bin.
    assert replaced == [('model.bin', False), ('model.xml', False)]
    assert [open(p).read() for p in (bin_, xml)] == ['new model.bin', 'new model.xml']
    assert sorted(os.listdir(tmp_path)) == ['model.bin', 'model.xml']
    assert not osp.exists(osp.dirname(staged[xml]))


@pytest.mark.parametrize('small_disk', [1], indirect=True)
def test_staged_files_that_do_not_fit_leave_the_old_pair(small_tmpfs):
    xml, bin_ = str(small_tmpfs / 'model.xml'), str(small_tmpfs / 'model.bin')
    for path in (xml, bin_):
        with open(path, 'w') as f:
            f.write('old')
    with pytest.raises(NoSpaceLeft) as error:
        with staged_files([bin_, xml]) as staged:
            for path in staged.values():
                with open(path, 'wb') as f:
                    f.write(b'x' * 600 * 2**10)
    # Both files are named, their whole size is known, and the free space is that of the
    # disk without the partial copies.
    assert str(error.value) == (f'no space left to write {bin_} and {xml}: it needs 1.2 MiB, '
                                f'1016.0 KiB are free; nothing was written')
    assert [open(p).read() for p in (bin_, xml)] == ['old', 'old']
    assert sorted(os.listdir(small_tmpfs)) == ['model.bin', 'model.xml']
    assert not osp.exists(osp.dirname(staged[xml]))


def test_figures_and_images_are_written_readable(tmp_path):
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(2, 1), dpi=50)
    ax.plot([0, 1], [1, 0])
    save_figure_atomically(fig, str(tmp_path / 'plot.png'))
    plt.close(fig)
    assert cv2.imread(str(tmp_path / 'plot.png')).shape == (50, 100, 3)
    image = cv2.imread(str(tmp_path / 'plot.png'))
    write_image_atomically(image, str(tmp_path / 'copy.png'))
    assert (cv2.imread(str(tmp_path / 'copy.png')) == image).all()
    assert sorted(os.listdir(tmp_path)) == ['copy.png', 'plot.png']


def test_two_writers_of_one_file_have_temporary_names_of_their_own(tmp_path):
    path = tmp_path / 'model.onnx'
    with replaced_atomically(str(path)) as first, replaced_atomically(str(path)) as second:
        assert first != second
        assert osp.dirname(first) == osp.dirname(second) == str(tmp_path)  # beside it
        for tmp, text in ((first, 'first'), (second, 'second')):
            with open(tmp, 'w') as f:
                f.write(text)
    assert path.read_text() == 'first'  # the outer block ends last
    assert os.listdir(tmp_path) == ['model.onnx']


KILLED_WRITER = """\
import os, sys, time
from mmfasternet.fileio import replaced_atomically, staged_files
path = sys.argv[1]
with replaced_atomically(path) as tmp, staged_files([path + '.bin']) as staged:
    open(tmp, 'wb').write(b'half')
    open(staged[path + '.bin'], 'wb').write(b'half')
    print(tmp, os.path.dirname(staged[path + '.bin']), flush=True)
    time.sleep(60)
"""


@pytest.mark.long
def test_what_a_killed_writer_left_is_recognisable_and_removed_by_the_next(tmp_path):
    path, temporary = tmp_path / 'model.onnx', tmp_path / 'tmp'
    temporary.mkdir()
    env = dict(os.environ, TMPDIR=str(temporary))
    writer = subprocess.Popen([sys.executable, '-c', KILLED_WRITER, str(path)], env=env,
                              stdout=subprocess.PIPE, text=True)
    tmp, staging = writer.stdout.readline().split()
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    # Nothing at the destination; what is left names the file, the dead writer and this
    # package.
    assert not path.exists()
    assert re.fullmatch(rf'\.model\.onnx\.{writer.pid}-[0-9a-f]+\.mmfasternet-tmp',
                        osp.basename(tmp)) and osp.exists(tmp)
    assert osp.basename(staging).startswith(f'mmfasternet-{writer.pid}-')
    assert osp.isdir(staging)
    # A live writer's temporaries are left alone; the next writer removes the dead one's.
    alive = tmp_path / f'.model.onnx.{os.getpid()}-0123abcd.mmfasternet-tmp'
    alive.write_bytes(b'in use')
    subprocess.run([sys.executable, '-c', (
        'import sys\nfrom mmfasternet.fileio import staged_files, write_bytes_atomically\n'
        'write_bytes_atomically(b"whole", sys.argv[1])\n'
        'with staged_files([sys.argv[1] + ".xml"]) as staged:\n'
        '    open(staged[sys.argv[1] + ".xml"], "w").write("x")\n'), str(path)],
        env=env, check=True)
    assert path.read_bytes() == b'whole'
    assert not osp.exists(tmp) and not osp.exists(staging) and alive.exists()
    assert not [name for name in os.listdir(temporary) if name.startswith('mmfasternet-')]
