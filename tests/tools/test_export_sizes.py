"""Which shipped configs export with dynamic sizes, as docs/export.md lists them.

Every config with the plugin's head on ``FullyConvVGG`` is exported at 48x80 and run
at 37x53 and 101x67 (batch 2) against PyTorch, at a reduced width (the graph's
operations, crops and pad mode are the config's; only the channel counts shrink);
the ResNetV1c-50 configs at full width. The MiT and Swin configs stop before anything
is written, with one line.
"""

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import mmseg_fcn_skip  # noqa: F401
from mmseg_fcn_skip.apis.export import ONNX_TOLERANCE, check_onnx, export_onnx
from mmseg_fcn_skip.apis.export_sizes import (
    FIXED_SIZE_BACKBONES,
    first_size_failure,
    fixed_size_reason,
)
from tests.helpers.processes import load_tool
from tests.helpers.siftflow_models import build_light, light_siftflow_config

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / 'docs' / 'export.md'
SHIPPED = sorted(
    p.relative_to(REPO / 'configs').as_posix()
    for p in (REPO / 'configs').rglob('*.py')
    if '_base_' not in p.parts and 'templates' not in p.parts
)
ROW = re.compile(
    r'^\| `([^`]+\.py)` \| (exports|work only at the traced size|not exported) \|', re.M
)
OTHER_SIZES = ((37, 53), (101, 67))
#: Reduced VGG widths: pool1..pool5 and fc7 channels for base 4, fc 16.
LIGHT_VGG = dict(base_channels=4, fc_channels=16)
LIGHT_CHANNELS = (4, 8, 16, 32, 32, 16)
#: Decode heads the export covers: the plugin's, and late fusion of the plugin's.
EXPORTED_HEADS = ('FCNSkipHead', 'LateFusionHead')


def verdict(cfg: Config) -> str:
    if cfg.model.decode_head.type not in EXPORTED_HEADS:
        return 'not exported'
    if cfg.model.backbone.type in FIXED_SIZE_BACKBONES:
        return 'work only at the traced size'
    return 'exports'


def page_rows() -> dict:
    return dict(ROW.findall(PAGE.read_text()))


def test_the_page_lists_every_shipped_config_with_its_verdict():
    rows = page_rows()
    assert sorted(rows) == SHIPPED
    for name in SHIPPED:
        assert rows[name] == verdict(Config.fromfile(str(REPO / 'configs' / name))), name


def light(name: str, tmp_path: Path) -> Path:
    """The config at reduced width (FullyConvVGG) or as it is, with random weights."""
    cfg = Config.fromfile(str(REPO / 'configs' / name))
    if cfg.model.backbone.type == 'FullyConvVGG':
        out = cfg.model.backbone.out_indices
        index = cfg.model.decode_head.in_index
        index = index if isinstance(index, (list, tuple)) else [index]
        channels = [LIGHT_CHANNELS[out[i]] for i in index]
        cfg.model.backbone.update(LIGHT_VGG)
        # every task's head of a multi-task model (SIFT Flow) reads the same levels
        for head in (cfg.model.decode_head, *(cfg.model.get('task_heads') or {}).values()):
            head.in_channels = channels if len(channels) > 1 else channels[0]
        cfg.model.auxiliary_head = None
    if cfg.model.backbone.type == 'MultiStreamBackbone':  # one stream, one head each
        for stream, head in zip(cfg.model.backbone.streams, cfg.model.decode_head.streams):
            stream.update(LIGHT_VGG, init_cfg=None)
            head.update(in_channels=[LIGHT_CHANNELS[i] for i in stream.out_indices], init_cfg=None)
    cfg.model.backbone.init_cfg = None
    config = tmp_path / Path(name).name
    cfg.dump(str(config))
    return config


def save_checkpoint(config: Path, path: Path) -> Path:
    """Random weights of ``config`` (every task's head drawn with std 1), no dataset meta."""
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(config)).model)
    heads = [model.decode_head, *getattr(model, 'task_heads', {}).values()]
    for parameter in (p for head in heads for p in head.parameters()):
        torch.nn.init.normal_(parameter)
    torch.save({'state_dict': model.state_dict()}, path)
    return path


EXPORTED = [n for n in SHIPPED if page_rows().get(n) == 'exports']


@pytest.mark.parametrize('name', EXPORTED)
def test_each_config_listed_as_exporting_runs_at_other_sizes(name, tmp_path):
    from mmseg_fcn_skip.apis import load_model

    config = light(name, tmp_path)
    model = load_model(str(config), str(save_checkpoint(config, tmp_path / 'w.pth')), 'cpu')
    assert fixed_size_reason(model) is None
    onnx_file = export_onnx(model, tmp_path / 'm.onnx', (48, 80))
    assert first_size_failure(model, onnx_file, OTHER_SIZES) is None
    errors = check_onnx(model, onnx_file, [(48, 80), *OTHER_SIZES])
    assert max(errors.values()) <= ONNX_TOLERANCE, errors


@pytest.mark.parametrize(
    'name, backbone',
    [
        ('fcn_skip/fcn4s_mit-b0_4xb4-40k_voc12aug-512x512.py', 'MixVisionTransformer'),
        ('fcn_skip/fcn4s_swin-t_4xb4-40k_voc12aug-512x512.py', 'SwinTransformer'),
    ],
)
def test_a_fixed_size_backbone_stops_before_anything_is_written(name, backbone, tmp_path, capsys):
    config = light(name, tmp_path)
    checkpoint = save_checkpoint(config, tmp_path / 'w.pth')
    out = tmp_path / 'out' / 'model.onnx'
    status = load_tool('deployment/export_onnx').main(
        [str(config), str(checkpoint), str(out), '--shape', '64', '96']
    )
    assert status == 2
    assert capsys.readouterr().err == (
        f'error: {config} does not export with dynamic sizes: its backbone {backbone} fixes '
        f'the input size when traced ({FIXED_SIZE_BACKBONES[backbone]}), so its graph would '
        'work only at the traced 64x96; nothing written (docs/export.md lists the configs '
        'that export)\n'
    )
    assert not out.parent.exists()


def test_any_graph_that_fails_at_other_sizes_is_not_written(tmp_path, capsys, monkeypatch):
    """A backbone outside the list: the exported graph is run at other sizes first."""
    tool = load_tool('deployment/export_onnx')
    monkeypatch.setattr(tool, 'fixed_size_reason', lambda model: None)
    config = light('fcn_skip/fcn4s_mit-b0_4xb4-40k_voc12aug-512x512.py', tmp_path)
    checkpoint = save_checkpoint(config, tmp_path / 'w.pth')
    out = tmp_path / 'model.onnx'
    status = tool.main([str(config), str(checkpoint), str(out), '--shape', '64', '96'])
    assert status == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1
    assert err.startswith(
        f'error: the graph of {config} works only at the traced 64x96: at 2x3x37x53 '
        'onnxruntime fails in node /backbone/'
    )
    assert err.endswith('; nothing written (docs/export.md lists the configs that export)\n')
    assert not out.exists()


class _CroppedToTraced(torch.nn.Module):
    """Scores cut to a fixed 48x80, as a graph whose crop froze at the traced size."""

    def __init__(self):
        super().__init__()
        self.score = torch.nn.Conv2d(3, 5, 1)

    def forward(self, image):
        return self.score(image)[:, :, :48, :80]


def test_logits_of_another_size_are_a_failure_too(tmp_path):
    onnx_file = tmp_path / 'cropped.onnx'
    dynamic = {0: 'batch', 2: 'height', 3: 'width'}
    torch.onnx.export(
        _CroppedToTraced(),
        (torch.rand(1, 3, 48, 80),),
        str(onnx_file),
        dynamo=False,
        input_names=['image'],
        output_names=['logits'],
        dynamic_axes={'image': dynamic, 'logits': dynamic},
    )
    model = SimpleNamespace(decode_head=SimpleNamespace(num_classes=5))
    assert first_size_failure(model, onnx_file, [(37, 53)]) is None
    assert (
        first_size_failure(model, onnx_file, OTHER_SIZES)
        == 'at 2x3x101x67 the logits are 2x5x48x67'
    )


class _TwoTasksOneCropped(torch.nn.Module):
    """Two outputs, the second cut to a fixed 48x80 as a frozen crop would."""

    def __init__(self):
        super().__init__()
        self.score = torch.nn.Conv2d(3, 5, 1)
        self.geo = torch.nn.Conv2d(3, 3, 1)

    def forward(self, image):
        return self.score(image), self.geo(image)[:, :, :48, :80]


def test_a_further_task_of_another_size_is_named(tmp_path):
    onnx_file = tmp_path / 'two.onnx'
    dynamic = {0: 'batch', 2: 'height', 3: 'width'}
    torch.onnx.export(
        _TwoTasksOneCropped(),
        (torch.rand(1, 3, 48, 80),),
        str(onnx_file),
        dynamo=False,
        input_names=['image'],
        output_names=['logits', 'geo_logits'],
        dynamic_axes={'image': dynamic, 'logits': dynamic, 'geo_logits': dynamic},
    )
    cfg = light_siftflow_config('32s')
    cfg.model.decode_head.num_classes = 5
    model = build_light(cfg)
    assert first_size_failure(model, onnx_file, [(37, 53)]) is None
    assert (
        first_size_failure(model, onnx_file, OTHER_SIZES)
        == 'at 2x3x101x67 the geo_logits are 2x3x48x67'
    )
