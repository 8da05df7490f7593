import numpy as np
import onnxruntime
import pytest

from light_fcn import blob_image, light_model, load_tool, run_tool, save_checkpoint


@pytest.mark.parametrize('pad_mode', ['same', 'caffe'])
def test_export_writes_a_checked_dynamic_onnx(tmp_path, capsys, pad_mode):
    config, checkpoint = light_model(tmp_path, pad_mode=pad_mode)
    out = tmp_path / 'onnx' / 'fcn8s.onnx'
    status = load_tool('export_onnx').main(
        [str(config), str(checkpoint), str(out), '--shape', '48', '80'])
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


def test_a_checkpoint_of_another_variant_fails_with_the_keys(tmp_path):
    config = light_model(tmp_path)[0]
    _, fcn32s = light_model(tmp_path, num_levels=1, num_classes=3)
    done = run_tool('export_onnx', str(config), str(fcn32s), str(tmp_path / 'x.onnx'))
    assert done.returncode != 0
    assert 'predicts 3 classes but the config has num_classes=5' in done.stderr
    assert 'The checkpoint is an FCN-32s (0 skip levels)' in done.stderr
    assert 'Keys the checkpoint lacks: decode_head.skip_scores.stride16.bias' in done.stderr
    assert not (tmp_path / 'x.onnx').exists()


def test_a_config_without_the_plugin_head_is_refused(tmp_path):
    config, checkpoint = light_model(tmp_path)
    psp = tmp_path / 'psp.py'
    psp.write_text(
        f'_base_ = {str(config)!r}\n'
        "model = dict(decode_head=dict(_delete_=True, type='FCNHead', in_channels=32, "
        'in_index=2, channels=16, num_convs=1, num_classes=5))\n')
    save_checkpoint(psp, tmp_path / 'psp.pth')
    with pytest.raises(ValueError, match="decode head FCNHead; ONNX export covers "
                       "EncoderDecoder models with the plugin's FCNSkipHead"):
        load_tool('export_onnx').main([str(psp), str(tmp_path / 'psp.pth'),
                                       str(tmp_path / 'psp.onnx')])
