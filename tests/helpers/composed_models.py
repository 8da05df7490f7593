"""Light versions of the configs that compose the plugin with mmseg's backbones and heads:
same structure and level grids, a handful of channels."""

from mmengine.config import Config

from tests.helpers.light_models import backbone_channels

#: Backbone settings that make each backbone light.
LIGHT_BACKBONES = {
    'FullyConvVGG': dict(base_channels=4, fc_channels=16),
    'ResNetV1c': dict(depth=18, base_channels=8, norm_cfg=dict(type='BN')),
    'MixVisionTransformer': dict(embed_dims=4, num_layers=[1, 1, 1, 1]),
    'SwinTransformer': dict(embed_dims=24, depths=[2, 2, 2, 2]),
}


def shrink_model(model: Config) -> None:
    """Make ``model`` (a config's ``model``) light in place: the backbone of
    ``LIGHT_BACKBONES`` without pretrained weights, the heads' ``in_channels`` (read
    from the built backbone) and ``channels`` to match."""
    backbone = model.backbone
    backbone.init_cfg = None
    backbone.update(LIGHT_BACKBONES[backbone.type])
    by_index = backbone_channels(backbone)
    for head in (model.decode_head, model.get('auxiliary_head')):
        if head is None:
            continue
        if isinstance(head.in_channels, int):
            head.in_channels = by_index[head.in_index]
            head.channels = 8
        else:
            head.in_channels = [by_index[i] for i in head.in_index]
            if head.type != 'FCNSkipHead':
                head.channels = 8
