"""Name the data file or image that breaks the data pipeline during a run.

A file that went missing or does not decode is named by the reader's own error
(:func:`data_file_failure`). mmdet's transforms fail on an annotation they cannot use with a
bare ``KeyError: 'mask'`` or ``AssertionError``, re-raised from a DataLoader worker with no
file named: the tools' runners wrap each dataset's pipeline so that such an error names the
image, its id and how many annotations it has. The tools print either as one line (the
pre-flight data check finds most of these before the run).
"""
import re
from typing import Iterator, Optional

from mmengine.dataset import BaseDataset, Compose
from mmengine.hooks import Hook

from mmfasternet.errors import MMFasterNetError

# What the data pipeline's readers say when a file went missing or broke during a run.
_FILE_FAILURES = (
    (re.compile(r"No such file or directory: '([^']+)'"), 'is missing'),
    (re.compile(r'failed to load image: (\S+)'), 'does not decode as an image'),
)


def data_file_failure(error: BaseException) -> Optional[str]:
    """``'<path> is missing'`` (or broken) when ``error`` (possibly re-raised from a
    DataLoader worker, whose text holds the original) is a failure to read a data file."""
    text = str(error)
    for pattern, what in _FILE_FAILURES:
        # The last match: a worker's text quotes the reader's source line before the error.
        paths = pattern.findall(text)
        if paths:
            return f'{paths[-1]} {what}'
    return None


# What mmdet's and mmseg's transforms raise on an annotation they cannot use.
ANNOTATION_ERRORS = (KeyError, AssertionError, IndexError)


class BrokenSample(MMFasterNetError, ValueError):
    """The data pipeline failed on one image's annotations."""

    def __str__(self) -> str:
        # Re-raised from a DataLoader worker, the message is the worker's whole traceback.
        text = super().__str__()
        marker = f'{type(self).__name__}: '
        return text.rsplit(marker, 1)[-1] if 'Original Traceback' in text else text


class NamingCompose(Compose):
    """A dataset's pipeline that turns :data:`ANNOTATION_ERRORS` into a
    :class:`BrokenSample` naming the image."""

    def __call__(self, data: dict) -> Optional[dict]:
        try:
            return super().__call__(data)
        except ANNOTATION_ERRORS as error:
            if data_file_failure(error) is not None:  # the reader names the file itself
                raise
            where = data.get('img_path') or data.get('seg_map_path') or 'an image'
            if data.get('img_id') is not None:
                where += f' (image id {data["img_id"]}'
                instances = data.get('instances')
                where += f', {len(instances)} annotations)' if instances is not None else ')'
            raise BrokenSample(f'the data pipeline failed on {where}: '
                               f'{type(error).__name__}: {error}. Fix or remove its '
                               f'annotations (the data check names the kinds it knows)'
                               ) from error


def _built_leaves(dataset) -> Iterator[BaseDataset]:
    """The built datasets inside wrappers such as RepeatDataset or ConcatDataset (the data
    check walks their configs instead)."""
    if hasattr(dataset, 'datasets'):
        for child in dataset.datasets:
            yield from _built_leaves(child)
    elif hasattr(dataset, 'dataset'):
        yield from _built_leaves(dataset.dataset)
    else:
        yield dataset


class NameFailingSamplesHook(Hook):
    """Wrap the pipeline of every dataset a loop reads in :class:`NamingCompose`, before
    its DataLoader starts workers."""

    priority = 'VERY_HIGH'

    @staticmethod
    def _wrap(loop) -> None:
        for dataset in _built_leaves(loop.dataloader.dataset):
            pipeline = getattr(dataset, 'pipeline', None)
            if isinstance(pipeline, Compose) and not isinstance(pipeline, NamingCompose):
                dataset.pipeline = NamingCompose(pipeline.transforms)

    def before_train(self, runner) -> None:
        self._wrap(runner.train_loop)

    def before_val(self, runner) -> None:
        self._wrap(runner.val_loop)

    def before_test(self, runner) -> None:
        self._wrap(runner.test_loop)
