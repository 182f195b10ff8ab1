"""Smoke demo: build every FasterNet variant through mmdet's registry and print its
multi-scale feature shapes for one 224x224 image."""
import torch
from mmdet.registry import MODELS

import mmfasternet  # noqa: F401  registers FasterNet


def main() -> None:
    image = torch.rand(1, 3, 224, 224)
    print(f'{"arch":<5} {"params":>12}   stage outputs (C x H x W) for a 224x224 input')
    for arch in mmfasternet.FasterNet.arch_zoo:
        backbone = MODELS.build(dict(type='FasterNet', arch=arch)).eval()
        with torch.no_grad():
            features = backbone(image)
        params = sum(p.numel() for p in backbone.parameters())
        shapes = '  '.join('x'.join(map(str, f.shape[1:])) for f in features)
        print(f'{arch:<5} {params:>12,}   {shapes}')


if __name__ == '__main__':
    main()
