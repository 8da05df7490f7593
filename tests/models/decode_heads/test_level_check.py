import pytest
import torch

from mmseg_fcn_skip.models.decode_heads.level_check import input_size_candidates, level_mismatch

FCN8S = (8, 16, 32)


@pytest.mark.parametrize(
    'sizes,input_size',
    [
        (((8, 6), (4, 3), (2, 2)), (61, 45)),  # ceil(size / stride)
        (((7, 5), (3, 2), (1, 1)), (61, 45)),  # floor(size / stride)
        (((1, 1), (1, 1), (1, 1)), (1, 1)),
        (((64, 64), (32, 32), (16, 16)), (512, 512)),
    ],
)
def test_same_mode_accepts_ceil_or_floor_of_size_over_stride(sizes, input_size):
    assert level_mismatch('same', FCN8S, sizes, ()) is None
    assert level_mismatch('same', FCN8S, sizes, (input_size,)) is None


def test_caffe_mode_accepts_the_reference_sizes_only():
    """500x500: pool3 ceil(698 / 8) = 88, pool4 44, fc7 ceil(698 / 32) - 6 = 16."""
    reference = ((88, 88), (44, 44), (16, 16))
    assert level_mismatch('caffe', FCN8S, reference, ((500, 500),)) is None
    assert level_mismatch('caffe', FCN8S, reference, ()) is None
    assert level_mismatch('caffe', FCN8S, ((88, 88), (44, 44), (17, 16)), ()) is not None
    assert level_mismatch('caffe', FCN8S, reference, ((512, 500),)) is not None


def test_one_fitting_input_candidate_is_enough():
    sizes = ((8, 8), (4, 4), (2, 2))
    assert level_mismatch('same', FCN8S, sizes, ((40, 40), (64, 64))) is None
    message = level_mismatch('same', FCN8S, sizes, ((16, 16), (40, 40)))
    assert 'network input of 16x16, where it expects 2x2, 1x1, 1x1' in message


def test_input_candidates_follow_predict_by_feat_then_the_rest():
    assert input_size_candidates(dict(img_shape=(50, 40), pad_shape=(64, 48))) == (
        (64, 48),
        (50, 40),
    )
    slide = dict(img_shape=torch.Size((33, 29)), pad_shape=(64, 48))
    assert input_size_candidates(slide) == ((33, 29), (64, 48))
    assert input_size_candidates(dict(img_shape=(50, 40, 3))) == ((50, 40),)
    batch = dict(img_shape=(50, 40), pad_shape=(50, 40), batch_input_shape=(64, 64))
    assert input_size_candidates(batch) == ((64, 64), (50, 40))
