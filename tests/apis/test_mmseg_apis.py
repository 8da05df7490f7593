"""The plugin's models through mmseg's own inference APIs."""

import inspect
import json

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmseg.apis import MMSegInferencer, inference_model, init_model, show_result_pyplot

from mmseg_fcn_skip.apis import build_inference_pipeline, predict_labels
from tests.helpers.images import write_images
from tests.helpers.light_models import light_checkpoint
from tests.helpers.processes import run_python

#: No progress bar where MMSegInferencer has the switch (upstream mmseg 1.2.2 has none).
QUIET = (
    {'show_progress': False}
    if 'show_progress' in inspect.signature(MMSegInferencer).parameters
    else {}
)
#: Odd sizes, a square and aspect ratios from 1:4 to 5:1.
SIZES = [(37, 53), (101, 67), (64, 64), (24, 96), (100, 20)]


@pytest.fixture(scope='module', params=['same', 'caffe'])
def fcn8s(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp(request.param)
    config, checkpoint = light_checkpoint(directory, pad_mode=request.param)
    return config, checkpoint, write_images(directory / 'images', SIZES)


def test_init_model_and_inference_model_predict_at_every_size(fcn8s):
    config, checkpoint, images = fcn8s
    model = init_model(str(config), str(checkpoint), device='cpu')
    assert model.dataset_meta['classes'][1] == 'disc'
    pipeline = build_inference_pipeline(model.cfg)
    for path, size in zip(images, SIZES):
        result = inference_model(model, str(path))
        assert result.pred_sem_seg.shape == size
        assert result.seg_logits.data.shape == (5, *size)
        ours = predict_labels(model, pipeline, [cv2.imread(str(path))])[0]
        assert np.array_equal(result.pred_sem_seg.data[0].numpy(), ours)
    twins = write_images(images[0].parent / 'twins', [SIZES[0]] * 2, seed=5)
    batch = inference_model(model, [str(p) for p in twins])
    for path, result in zip(twins, batch):
        alone = inference_model(model, str(path))
        torch.testing.assert_close(result.seg_logits.data, alone.seg_logits.data)


def test_show_result_pyplot_draws_the_prediction(fcn8s, tmp_path):
    config, checkpoint, images = fcn8s
    model = init_model(str(config), str(checkpoint), device='cpu')
    result = inference_model(model, str(images[3]))
    out_file = tmp_path / 'shown.png'
    drawn = show_result_pyplot(
        model, str(images[3]), result, show=False, out_file=str(out_file), with_labels=False
    )
    # Half image, half class colour of the predicted label, in RGB.
    image = cv2.imread(str(images[3]))[..., ::-1]
    palette = np.array(model.dataset_meta['palette'], np.uint8)
    colours = palette[result.pred_sem_seg.data[0].numpy()]
    assert len(np.unique(result.pred_sem_seg.data.numpy())) > 1
    assert np.array_equal(drawn, (image * 0.5 + colours * 0.5).astype(np.uint8))
    assert np.array_equal(cv2.imread(str(out_file))[..., ::-1], drawn)


def test_mmseg_inferencer_with_config_and_weights(fcn8s, tmp_path):
    config, checkpoint, images = fcn8s
    inferencer = MMSegInferencer(model=str(config), weights=str(checkpoint), device='cpu', **QUIET)
    outputs = inferencer([str(p) for p in images[:2]], out_dir=str(tmp_path))
    model = inferencer.model
    pipeline = build_inference_pipeline(Config.fromfile(config))
    written = sorted((tmp_path / 'pred').iterdir())  # 00000000_pred.png, ...
    assert len(written) == 2 and len(list((tmp_path / 'vis').iterdir())) == 2
    for path, prediction, png in zip(images[:2], outputs['predictions'], written):
        ours = predict_labels(model, pipeline, [cv2.imread(str(path))])[0]
        assert np.array_equal(prediction, ours)
        assert np.array_equal(cv2.imread(str(png), cv2.IMREAD_UNCHANGED), ours)


def test_mmseg_inferencer_imports_the_plugin_through_custom_imports(tmp_path):
    """In a fresh process that never imports the plugin, the config's custom_imports
    registers it."""
    config, checkpoint = light_checkpoint(tmp_path)
    assert Config.fromfile(config).custom_imports['imports'] == ['mmseg_fcn_skip']
    image = write_images(tmp_path, [(45, 70)])[0]
    script = (
        'import json, sys\n'
        'from mmseg.apis import MMSegInferencer\n'
        f'inferencer = MMSegInferencer(model={str(config)!r}, '
        f'weights={str(checkpoint)!r}, device="cpu", **{QUIET!r})\n'
        f'out = inferencer({str(image)!r})\n'
        'plugin = [m for m in sys.modules if m.startswith("mmseg_fcn_skip")]\n'
        'print(json.dumps(dict(shape=list(out["predictions"].shape), '
        'plugin=bool(plugin))))\n'
    )
    done = run_python('-c', script)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == dict(shape=[45, 70], plugin=True)


def test_models_run_under_torch_no_grad_in_eval_mode(fcn8s):
    config, checkpoint, _ = fcn8s
    model = init_model(str(config), str(checkpoint), device='cpu')
    assert not model.training
    with torch.no_grad():
        logits = model(torch.rand(2, 3, 33, 47) * 255, mode='tensor')
    assert logits.shape[:2] == (2, 5) and logits.shape[-2] >= 33
