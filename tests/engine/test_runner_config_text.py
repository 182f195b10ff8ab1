"""The tools' runners (``runner_of``) format their config's text once for each content, and
as mmengine formats it."""
import mmengine.config.config as mmengine_config
from mmengine.config import Config

from mmfasternet.engine.tool_config import runner_of
from toy_configs import write_toy_config


def test_the_runner_formats_its_config_once_per_content_as_mmengine_does(
        tmp_path, tiny_toy_coco, monkeypatch):
    calls = []
    format_code = mmengine_config.FormatCode

    def counted(*args, **kwargs):
        calls.append(1)
        return format_code(*args, **kwargs)

    monkeypatch.setattr(mmengine_config, 'FormatCode', counted)
    cfg = Config.fromfile(write_toy_config('det', tmp_path, tiny_toy_coco))
    cfg.work_dir = str(tmp_path / 'work')
    runner = runner_of(cfg)
    assert isinstance(runner.cfg, Config) and len(calls) == 1  # mmengine's log of it
    text = runner.cfg.pretty_text
    assert runner.cfg.pretty_text == text and len(calls) == 1
    as_mmengine = Config(runner.cfg.to_dict(), filename=runner.cfg.filename)
    assert as_mmengine.pretty_text == text and len(calls) == 2

    runner.cfg.merge_from_dict({'train_cfg.max_epochs': 5})  # another content: formatted again
    changed = runner.cfg.pretty_text
    assert len(calls) == 3 and changed != text and 'max_epochs=5' in changed
    assert runner.cfg.pretty_text == changed and len(calls) == 3
    assert type(cfg) is Config  # the tool's own config is left as it was
