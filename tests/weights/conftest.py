import pytest

from tests.helpers.weights_files import caffe_fcn32s_file, torchvision_vgg11_file
from tests.helpers.weights_server import use_loopback_only


@pytest.fixture(autouse=True)
def loopback_weights_env(tmp_path, monkeypatch):
    """A fresh torch hub cache (TORCH_HOME), no mirror, no proxies: every download in
    a test goes to the URL the test gives, on 127.0.0.1."""
    use_loopback_only(tmp_path / 'torch_home', monkeypatch)


@pytest.fixture(scope='session')
def vgg11_bytes():
    """A torchvision-layout VGG11 file (real keys and conv shapes, fc6/fc7 of 64)."""
    return torchvision_vgg11_file()


@pytest.fixture(scope='session')
def fcn32s_bytes():
    """A .caffemodel of a reference FCN-32s (VGG16 convs, fc6/fc7 of 8, 21 classes)."""
    return caffe_fcn32s_file()
