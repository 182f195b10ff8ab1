"""Outputs are replaced in one step: a failure keeps the old file and leaves no temporary."""
import pytest

from mmfasternet.fileio import replaced_atomically, write_json_atomically


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
