"""The FasterNet family (paper Tab. 8): each variant's stage-1 width, block counts and
activation. The backbone builds them; checkpoint reading names them."""
from typing import Dict

NUM_STAGES = 4

VARIANTS: Dict[str, dict] = {
    't0': dict(embed_dims=40, depths=[1, 2, 8, 2], act_cfg=dict(type='GELU')),
    't1': dict(embed_dims=64, depths=[1, 2, 8, 2], act_cfg=dict(type='GELU')),
    't2': dict(embed_dims=96, depths=[1, 2, 8, 2], act_cfg=dict(type='ReLU')),
    's': dict(embed_dims=128, depths=[1, 2, 13, 2], act_cfg=dict(type='ReLU')),
    'm': dict(embed_dims=144, depths=[3, 4, 18, 3], act_cfg=dict(type='ReLU')),
    'l': dict(embed_dims=192, depths=[3, 4, 18, 3], act_cfg=dict(type='ReLU')),
}
