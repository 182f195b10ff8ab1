"""The runtime model that ``tools/test.py`` evaluates an exported mmpretrain classifier with
(the file itself comes from :func:`mmfasternet.deploy.export.export_onnx`)."""
import torch
import torch.nn as nn
from mmengine.model import BaseModel

from .runtimes import DeployError, open_runtime


class OnnxClassifier(BaseModel):
    """An exported classifier (``image`` in, logits out) run by ONNX Runtime or OpenVINO in
    mmpretrain's test loop: the config's data preprocessor feeds it one image at a time and
    the config's head turns the logits into predictions.

    Args:
        path (str): A classifier written by ``tools/deployment/pytorch2onnx.py``, or its
            int8 form from ``tools/deployment/quantize.py``.
        classifier (nn.Module): The config's built ``ImageClassifier``.
        **runtime: ``backend``, ``precision`` and ``threads`` of
            :func:`~mmfasternet.deploy.runtimes.open_runtime`.
    """

    def __init__(self, path: str, classifier: nn.Module, **runtime):
        super().__init__(data_preprocessor=classifier.data_preprocessor)
        self.runtime = open_runtime(path, inputs=['image'], what='an exported classifier',
                                    **runtime)
        if len(self.runtime.output_names) != 1:
            raise DeployError(f'{path} is not an exported classifier: it returns '
                              f'{self.runtime.output_names}, where a classifier returns one '
                              f'tensor of logits')
        self.head = classifier.head
        self.input_shape = self.runtime.input_shapes['image'][2:]

    def logits(self, image: torch.Tensor) -> torch.Tensor:
        """The logits of one preprocessed (1, 3, H, W) image."""
        if None not in self.input_shape and tuple(image.shape[2:]) != self.input_shape:
            raise DeployError(f'the exported classifier takes {self.input_shape} inputs, got '
                              f'{tuple(image.shape[2:])}: export it at the size the test '
                              f'pipeline makes (pytorch2onnx.py --shape)')
        return torch.from_numpy(self.runtime.run({'image': image.detach().cpu().numpy()})[0])

    def forward(self, inputs: torch.Tensor, data_samples=None, mode: str = 'predict'):
        logits = torch.cat([self.logits(image[None]) for image in inputs])
        num_classes = getattr(self.head, 'num_classes', logits.shape[1])
        if logits.shape[1] != num_classes:
            raise DeployError(f'the exported classifier has {logits.shape[1]} classes, but the '
                              f'config has {num_classes}: export it from this config')
        return self.head._get_predictions(logits, data_samples)
