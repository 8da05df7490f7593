"""Models of the index without released weights: mim and the inferencer say so.

mim reads each model's ``Weights`` as a string of comma-separated URLs
(``mim download`` splits it and downloads each part; openmim is not installed here,
so the test reads the fields as mim's ``get_model_info`` does); mmengine's
``MMSegInferencer(model=NAME)`` loads it as the checkpoint.
"""

from pathlib import Path

import pytest
from mmengine.fileio import load
from mmengine.runner.checkpoint import CheckpointLoader
from mmseg.apis import MMSegInferencer

import mmseg_fcn_skip  # noqa: F401  (registers the loaders)
from mmseg_fcn_skip.weights import WEIGHTS, WeightsError
from mmseg_fcn_skip.weights.unreleased import unreleased_config, unreleased_weights

REPO = Path(__file__).resolve().parents[2]
INDEX = load(str(REPO / 'model-index.yml'))
MODELS = [model for path in INDEX['Import'] for model in load(str(REPO / path))['Models']]
UNRELEASED = [m for m in MODELS if 'Weights Name' not in m['Metadata']]
URLS = {entry.url for entry in WEIGHTS.values()}


@pytest.mark.parametrize('model', MODELS, ids=[m['Name'] for m in MODELS])
def test_every_model_has_weights_mim_can_split(model):
    weights = model['Weights']
    assert isinstance(weights, str)  # mim: checkpoint_urls.split(',')
    for part in weights.split(','):
        if 'Weights Name' in model['Metadata']:
            assert part in URLS
        else:
            assert part == unreleased_weights(model['Config'])
            assert unreleased_config(part) == model['Config']


def test_the_text_mim_stops_on_says_there_are_none_and_which_config_trains_it():
    model = next(m for m in UNRELEASED if m['Name'] == 'fcn8s_vgg16_4xb4-40k_voc12aug-512x512')
    assert model['Weights'] == (
        'no released weights: train configs/fcn_skip/fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py '
        'with fcn-train'
    )
    # mim names its file after the last '/' part: never the config it dumps beside it.
    assert not model['Weights'].split('/')[-1].endswith('.py')


def test_mmengine_refuses_it_with_the_fix():
    weights = unreleased_weights('configs/fcn_skip/fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py')
    with pytest.raises(WeightsError) as error:
        CheckpointLoader.load_checkpoint(weights)
    assert str(error.value) == (
        'fcn8s_vgg16_4xb4-40k_voc12aug-512x512 has no released weights: this project '
        'publishes no checkpoint for it. Train it from its config '
        'configs/fcn_skip/fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py (`fcn-config copy '
        'fcn8s_vgg16_4xb4-40k_voc12aug-512x512 fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py`, '
        'then `fcn-train fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py`) and give the checkpoint, '
        "e.g. MMSegInferencer(model='fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py', "
        "weights='work_dirs/fcn8s_vgg16_4xb4-40k_voc12aug-512x512/iter_40000.pth')"
    )


def test_the_inferencer_by_name_stops_with_that_message():
    with pytest.raises(WeightsError, match=r'^fcn32s_vgg16_4xb4-40k_voc12aug-512x512 has no '):
        MMSegInferencer(
            model='fcn32s_vgg16_4xb4-40k_voc12aug-512x512', scope='mmseg_fcn_skip', device='cpu'
        )
