"""Checkpoints are written in one step: a full disk leaves the previous files as they were, no
partial checkpoint and one message; ``--resume`` finds the last checkpoint of a work dir that
was moved, and says plainly when it is gone."""
import shutil

import pytest
from mmengine.config import Config

from conftest import SMALL_DISK_MIB, TRAIN, assert_says, run_limited, stops
from mmfasternet.checkpoint import CheckpointError
from mmfasternet.engine.checkpoint_storage import (BACKEND_NAME, AtomicLocalBackend,
                                                   save_checkpoints_atomically)
from mmfasternet.engine.tool_config import resume_checkpoint
from toy_configs import write_toy_config


def test_a_write_that_does_not_fit_leaves_the_old_file(small_disk):
    folder, prefix = small_disk
    target = folder / 'epoch_1.pth'
    script = (f'from mmfasternet.engine.checkpoint_storage import AtomicLocalBackend\n'
              f'backend = AtomicLocalBackend()\n'
              f'backend.put(b"a" * 2**20, {str(target)!r})\n'
              f'backend.put(b"b" * {SMALL_DISK_MIB + 5} * 2**20, {str(target)!r})\n')
    result = run_limited(prefix, '-c', script, cwd=folder)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f'mmfasternet.fileio.NoSpaceLeft: no space left '
                           f'to write {target}: it needs {SMALL_DISK_MIB + 5}.0 MiB, ')
    assert last.endswith(' MiB are free; nothing was written')
    assert target.read_bytes() == b'a' * 2**20
    assert [p.name for p in folder.iterdir()] == ['epoch_1.pth']


def test_the_backend_replaces_a_file_and_keeps_other_errors(tmp_path):
    backend = AtomicLocalBackend()
    target = tmp_path / 'deeper' / 'last.pth'
    backend.put(b'old', target)
    backend.put(b'new', str(target))
    assert target.read_bytes() == b'new'
    assert sorted(p.name for p in target.parent.iterdir()) == ['last.pth']
    (tmp_path / 'folder.pth').mkdir()
    with pytest.raises(IsADirectoryError):
        backend.put(b'x', tmp_path / 'folder.pth')


def test_the_tools_save_through_it_unless_the_config_names_a_backend():
    cfg = Config(dict(default_hooks=dict(checkpoint=dict(type='CheckpointHook'))))
    save_checkpoints_atomically(cfg)
    assert cfg.default_hooks.checkpoint.backend_args == dict(backend=BACKEND_NAME)
    for hook in (dict(type='CheckpointHook', backend_args=dict(backend='petrel')),
                 dict(type='CheckpointHook', out_dir='s3://bucket/run')):
        cfg = Config(dict(default_hooks=dict(checkpoint=dict(hook))))
        save_checkpoints_atomically(cfg)
        assert cfg.default_hooks.checkpoint.to_dict() == hook


@pytest.mark.long
def test_training_on_a_full_disk_stops_with_one_message_and_no_partial_file(
        small_disk, tiny_toy_coco):
    folder, prefix = small_disk
    config = write_toy_config('det', folder.parent, tiny_toy_coco, max_epochs=1)
    work = folder / 'work'
    result = run_limited(prefix, TRAIN, config, '--work-dir', str(work), cwd=folder.parent)
    lines = stops(result).strip().splitlines()
    assert lines[-2].startswith(f'no space left to write {work}/epoch_1.pth: it needs ')
    assert lines[-2].endswith(' MiB are free; nothing was written')
    assert lines[-1] == 'No checkpoint was saved yet: free some space, then start again.'
    assert not [p for p in work.iterdir() if p.suffix in ('.pth', '.tmp')]
    assert not (work / 'last_checkpoint').exists()


def test_resume_finds_the_checkpoint_of_a_moved_work_dir(tmp_path):
    old, moved = tmp_path / 'old', tmp_path / 'moved'
    old.mkdir()
    (old / 'epoch_2.pth').write_bytes(b'checkpoint')
    (old / 'last_checkpoint').write_text(f'{old}/epoch_2.pth')
    assert resume_checkpoint(str(old)) == f'{old}/epoch_2.pth'
    shutil.move(old, moved)
    assert resume_checkpoint(str(moved)) == f'{moved}/epoch_2.pth'
    (moved / 'epoch_2.pth').unlink()
    with pytest.raises(CheckpointError) as error:
        resume_checkpoint(str(moved))
    assert_says(str(error.value), f'{moved}/last_checkpoint', f'{old}/epoch_2.pth', 'gone',
                '--resume PATH')
    (moved / 'last_checkpoint').write_text('')
    with pytest.raises(CheckpointError, match='last_checkpoint is empty'):
        resume_checkpoint(str(moved))
    assert resume_checkpoint(str(tmp_path / 'never_trained')) is None


def test_train_resume_names_a_gone_checkpoint_before_anything_runs(tmp_path, tiny_toy_coco):
    config = write_toy_config('det', tmp_path, tiny_toy_coco, max_epochs=1)
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'last_checkpoint').write_text('/elsewhere/work/epoch_1.pth')
    result = run_limited([], TRAIN, config, '--work-dir', str(work), '--resume', cwd=tmp_path)
    assert_says(stops(result).strip().splitlines()[-1], f'{work}/last_checkpoint',
                '/elsewhere/work/epoch_1.pth', 'gone', '--resume PATH')
    assert sorted(p.name for p in work.iterdir()) == ['last_checkpoint']
