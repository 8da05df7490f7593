import pytest
import torch

from tests.helpers.reference_nets import caffe_vgg16


@pytest.fixture(scope='session')
def vgg16_caffe():
    """Random VGG16 weights of the real shapes, in Caffe naming (fc6 4096x512x7x7)."""
    return caffe_vgg16(torch.Generator().manual_seed(16))
