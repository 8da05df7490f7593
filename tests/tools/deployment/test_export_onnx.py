import numpy as np
import onnxruntime
import pytest

from tests.helpers.images import blob_image
from tests.helpers.light_models import light_checkpoint, random_checkpoint
from tests.helpers.processes import load_tool, run_tool
from tests.helpers.siftflow_models import light_siftflow_config, save_light


@pytest.mark.parametrize('pad_mode', ['same', 'caffe'])
def test_export_writes_a_checked_dynamic_onnx(tmp_path, capsys, pad_mode):
    config, checkpoint = light_checkpoint(tmp_path, pad_mode=pad_mode)
    out = tmp_path / 'onnx' / 'fcn8s.onnx'
    status = load_tool('deployment/export_onnx').main(
        [str(config), str(checkpoint), str(out), '--shape', '48', '80']
    )
    printed = capsys.readouterr().out
    assert status == 0
    for size in ('48x80', '37x53', '101x67'):
        assert f'  {size}: max |ONNX - PyTorch|' in printed
    assert printed.count(' ok') == 3
    session = onnxruntime.InferenceSession(str(out), providers=['CPUExecutionProvider'])
    image = blob_image(29, 131, np.random.default_rng(0))
    batch = image.transpose(2, 0, 1)[None].astype(np.float32)
    logits = session.run(None, {'image': batch})
    assert logits[0].shape == (1, 5, 29, 131)


def test_without_onnxruntime_the_graph_is_written_unchecked_with_status_0(
    tmp_path, capsys, monkeypatch
):
    config, checkpoint = light_checkpoint(tmp_path)
    out = tmp_path / 'fcn8s.onnx'
    tool = load_tool('deployment/export_onnx')
    find_spec = tool.importlib.util.find_spec
    monkeypatch.setattr(
        tool.importlib.util,
        'find_spec',
        lambda name, *args: None if name == 'onnxruntime' else find_spec(name, *args),
    )
    status = tool.main([str(config), str(checkpoint), str(out), '--shape', '48', '80'])
    printed = capsys.readouterr().out
    assert status == 0 and out.is_file()
    assert 'onnxruntime is not installed, not checked (pip install onnxruntime)' in printed
    assert 'max |ONNX - PyTorch|' not in printed


def test_a_checkpoint_of_another_variant_fails_with_the_keys(tmp_path):
    config = light_checkpoint(tmp_path)[0]
    _, fcn32s = light_checkpoint(tmp_path, '32s', num_classes=3)
    done = run_tool('deployment/export_onnx', str(config), str(fcn32s), str(tmp_path / 'x.onnx'))
    assert done.returncode != 0
    assert 'predicts 3 classes but the config has num_classes=5' in done.stderr
    assert 'The checkpoint is an FCN-32s (0 skip levels)' in done.stderr
    assert 'Keys the checkpoint lacks: decode_head.skip_scores.stride16.bias' in done.stderr
    assert not (tmp_path / 'x.onnx').exists()


def test_a_config_without_the_plugin_head_is_refused(tmp_path):
    config, checkpoint = light_checkpoint(tmp_path)
    psp = tmp_path / 'psp.py'
    psp.write_text(
        f'_base_ = {str(config)!r}\n'
        "model = dict(decode_head=dict(_delete_=True, type='FCNHead', in_channels=32, "
        'in_index=2, channels=16, num_convs=1, num_classes=5))\n'
    )
    random_checkpoint(psp, tmp_path / 'psp.pth')
    with pytest.raises(
        ValueError,
        match='decode head FCNHead; ONNX export covers '
        "EncoderDecoder models with the plugin's FCNSkipHead",
    ):
        load_tool('deployment/export_onnx').main(
            [str(psp), str(tmp_path / 'psp.pth'), str(tmp_path / 'psp.onnx')]
        )


def test_fresh_weights_with_zero_logits_are_checked_on_random_score_layers(tmp_path, capsys):
    """The VOC configs' score layers start at zero (score_init='zeros'): every logit of
    fresh weights is 0, so the check runs on a copy whose zero weights are redrawn,
    and says so."""
    config, _ = light_checkpoint(tmp_path)
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    init_default_scope('mmseg')
    cfg = Config.fromfile(config)
    cfg.model.decode_head.score_init = 'zeros'
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert not model.decode_head.conv_seg.weight.any()
    fresh = tmp_path / 'fresh.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), fresh)
    out = tmp_path / 'fresh.onnx'
    status = load_tool('deployment/export_onnx').main(
        [str(config), str(fresh), str(out), '--shape', '48', '80']
    )
    printed = capsys.readouterr().out
    assert status == 0
    assert 'Every logit of this model is 0' in printed
    assert 'decode_head.conv_seg.weight' in printed
    assert printed.count(' ok') == 3
    # The file written is the model as given: zero logits.
    session = onnxruntime.InferenceSession(str(out), providers=['CPUExecutionProvider'])
    logits = session.run(None, {'image': np.full((1, 3, 40, 50), 99, np.float32)})[0]
    assert not logits.any()


def test_a_siftflow_net_exports_both_tasks_and_checks_each(tmp_path, capsys):
    """SIFT Flow: outputs logits (33 classes) and geo_logits (3); each is checked at
    every size. The geometric head is untrained (score layers at zero, every geo logit
    0), so the check runs on a copy with those redrawn, and says which output."""
    config, checkpoint = save_light(light_siftflow_config('16s'), tmp_path, fresh_tasks=('geo',))
    out = tmp_path / 'siftflow.onnx'
    status = load_tool('deployment/export_onnx').main(
        [str(config), str(checkpoint), str(out), '--shape', '48', '80']
    )
    printed = capsys.readouterr().out
    assert status == 0
    assert 'outputs logits: float32 N x 33 x H x W, geo_logits: float32 N x 3 x H x W' in printed
    assert 'Every logit of output geo_logits is 0 (all-zero weights: ' in printed
    assert 'task_heads.geo.conv_seg.weight, task_heads.geo.skip_scores.stride16.weight;' in printed
    for size in ('48x80', '37x53', '101x67'):
        for name in ('logits', 'geo_logits'):
            assert f'  {size} {name}: max |ONNX - PyTorch|' in printed
    assert printed.count(' ok') == 6
    # The file written is the model as given: varying semantic logits, zero geometric.
    session = onnxruntime.InferenceSession(str(out), providers=['CPUExecutionProvider'])
    assert [output.name for output in session.get_outputs()] == ['logits', 'geo_logits']
    image = blob_image(29, 131, np.random.default_rng(0)).transpose(2, 0, 1)[None]
    semantic, geometric = session.run(None, {'image': image.astype(np.float32)})
    assert semantic.shape == (1, 33, 29, 131) and geometric.shape == (1, 3, 29, 131)
    assert semantic.std() > 0 and not geometric.any()
