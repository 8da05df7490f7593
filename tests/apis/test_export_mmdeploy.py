"""mmdeploy's own ONNX export (``torch2onnx``) of the plugin's models, at any size.

The mmdeploy test runs where mmdeploy 1.3.1 is importable, installed beside the
maintained stack without its requirements (which would replace onedl-mmengine by
upstream mmengine and downgrade protobuf below what onnx needs)::

    pip install --no-deps mmdeploy==1.3.1 aenum multiprocess dill six terminaltables
"""

import importlib.util
import warnings

import cv2
import numpy as np
import onnxruntime
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from mmseg_fcn_skip.apis import load_model
from mmseg_fcn_skip.apis.export import check_mmdeploy_model, torchscript_onnx_export
from tests.helpers.images import blob_image
from tests.helpers.light_models import light_checkpoint
from tests.helpers.siftflow_models import light_siftflow_config, save_light

#: mmdeploy's configs/mmseg/segmentation_onnxruntime_dynamic.py with its bases merged.
DEPLOY_CFG = dict(
    onnx_config=dict(
        type='onnx',
        export_params=True,
        keep_initializers_as_inputs=False,
        opset_version=11,
        save_file='end2end.onnx',
        input_names=['input'],
        output_names=['output'],
        input_shape=None,
        optimize=True,
        dynamic_axes={
            'input': {0: 'batch', 2: 'height', 3: 'width'},
            'output': {0: 'batch', 2: 'height', 3: 'width'},
        },
    ),
    codebase_config=dict(type='mmseg', task='Segmentation', with_argmax=True),
    backend_config=dict(type='onnxruntime'),
)
TRACED = (108, 183)
SIZES = [(1, 1), (7, 5), (33, 64), (102, 120), (181, 193), (300, 257)]


def test_torchscript_onnx_export_selects_the_torchscript_exporter(tmp_path):
    original = torch.onnx.export
    with torchscript_onnx_export():
        with pytest.warns(DeprecationWarning, match='legacy TorchScript-based ONNX'):
            torch.onnx.export(
                nn.Conv2d(3, 2, 3),
                (torch.randn(1, 3, 8, 8),),
                str(tmp_path / 'conv.onnx'),
                input_names=['x'],
                dynamic_axes={'x': {2: 'h', 3: 'w'}},
            )
    assert torch.onnx.export is original
    session = onnxruntime.InferenceSession(
        str(tmp_path / 'conv.onnx'), providers=['CPUExecutionProvider']
    )
    assert session.run(None, {'x': np.zeros((1, 3, 20, 9), np.float32)})[0].shape == (1, 2, 18, 7)


needs_mmdeploy = pytest.mark.skipif(
    importlib.util.find_spec('mmdeploy') is None,
    reason='mmdeploy is not installed (pip install --no-deps '
    'mmdeploy==1.3.1 aenum multiprocess dill six terminaltables)',
)


@needs_mmdeploy
@pytest.mark.parametrize(
    'pad_mode,variant', [('same', '8s'), ('caffe', '8s'), ('caffe', '16s'), ('same', '32s')]
)
def test_mmdeploy_torch2onnx_labels_match_pytorch_at_every_size(tmp_path, pad_mode, variant):
    from mmdeploy.apis import inference_model, torch2onnx

    config, checkpoint = light_checkpoint(tmp_path, variant, pad_mode=pad_mode)
    deploy_cfg = Config(DEPLOY_CFG)
    image = blob_image(*TRACED, np.random.default_rng(0))
    with torchscript_onnx_export(), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch2onnx(
            image, str(tmp_path), 'end2end.onnx', deploy_cfg, str(config), str(checkpoint), 'cpu'
        )
    onnx_file = tmp_path / 'end2end.onnx'
    session = onnxruntime.InferenceSession(str(onnx_file), providers=['CPUExecutionProvider'])
    model = load_model(config, checkpoint, 'cpu')
    generator = torch.Generator().manual_seed(0)
    for height, width in [TRACED, *SIZES]:
        # The graph takes the normalised image (the preprocessor is not in it).
        inputs = torch.randn(1, 3, height, width, generator=generator)
        with torch.no_grad():
            logits = model.decode_head.predict(
                model.extract_feat(inputs), [dict(img_shape=(height, width))], model.test_cfg
            )
        labels = session.run(['output'], {'input': inputs.numpy()})[0]
        assert labels.shape == (1, 1, height, width)
        top2 = logits.topk(2, dim=1).values
        clear = (top2[:, 0] - top2[:, 1] > 1e-4).numpy()  # no near-ties
        assert clear.mean() > 0.99
        expected = logits.argmax(1).numpy()
        np.testing.assert_array_equal(
            labels[:, 0][clear], expected[clear], err_msg=f'{height}x{width}'
        )
    # mmdeploy's own inference on the exported file: labels of the image's size.
    image_file = tmp_path / 'image.png'
    cv2.imwrite(str(image_file), blob_image(181, 193, np.random.default_rng(1)))
    result = inference_model(str(config), deploy_cfg, [str(onnx_file)], str(image_file), 'cpu')
    assert result[0].pred_sem_seg.shape == (181, 193)


@needs_mmdeploy
def test_mmdeploy_cannot_export_a_multi_task_model_and_the_check_says_so(tmp_path):
    """What check_mmdeploy_model (and tools/deployment/deploy_mmdeploy.py) refuse in
    advance: mmdeploy's own export of a SIFT Flow net stops with errors that name
    neither the tasks nor the fix, first in the test pipeline it runs on the example
    image, then, without the task labels' step, in its rewrite of the segmentor."""
    from mmdeploy.apis import torch2onnx

    cfg = light_siftflow_config('32s')
    config, checkpoint = save_light(cfg, tmp_path)
    with pytest.raises(ValueError, match='builds a MultiTaskEncoderDecoder with 2 tasks'):
        check_mmdeploy_model(config)
    cfg.test_pipeline = [t for t in cfg.test_pipeline if t.type != 'LoadTaskAnnotations']
    no_task_labels = tmp_path / 'no_task_labels.py'
    cfg.dump(str(no_task_labels))
    image = blob_image(*TRACED, np.random.default_rng(0))
    failures = [
        (config, KeyError, 'LoadTaskAnnotations needs a multi-task dataset'),
        (no_task_labels, AttributeError, "'list' object has no attribute 'shape'"),
    ]
    for model_cfg, error, message in failures:
        with torchscript_onnx_export(), warnings.catch_warnings():
            warnings.simplefilter('ignore')
            with pytest.raises(error, match=message):
                torch2onnx(
                    image,
                    str(tmp_path),
                    'end2end.onnx',
                    Config(DEPLOY_CFG),
                    str(model_cfg),
                    str(checkpoint),
                    'cpu',
                )
