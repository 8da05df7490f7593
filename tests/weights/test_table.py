"""The table of published weights: URLs, checksums and how URLs find entries."""

import pytest

from mmseg_fcn_skip.checkpoints import CAFFE_FCN, CAFFE_VGG, TORCHVISION_VGG
from mmseg_fcn_skip.weights import WEIGHTS, WeightsEntry, find_weights
from mmseg_fcn_skip.weights.table import HASH_IN_NAME

# File names of torchvision 0.29.1's VGG*_Weights.IMAGENET1K_V1
# (torchvision/models/vgg.py).
TORCHVISION_FILES = {
    'vgg11': 'vgg11-8a719046.pth',
    'vgg11_bn': 'vgg11_bn-6002323d.pth',
    'vgg13': 'vgg13-19584684.pth',
    'vgg13_bn': 'vgg13_bn-abd245e5.pth',
    'vgg16': 'vgg16-397923af.pth',
    'vgg16_bn': 'vgg16_bn-6c64b313.pth',
    'vgg19': 'vgg19-dcbb9e9d.pth',
    'vgg19_bn': 'vgg19_bn-c79401a0.pth',
}
FCN = 'http://dl.caffe.berkeleyvision.org/'


def test_torchvision_entries_check_the_sha256_prefix_in_their_file_names():
    for name, filename in TORCHVISION_FILES.items():
        entry = WEIGHTS[name]
        assert entry.url == f'https://download.pytorch.org/models/{filename}'
        assert entry.filename == filename
        assert entry.checksums == dict(sha256=filename.split('-')[1][:8])
        assert (entry.layout, entry.convention) == (TORCHVISION_VGG, 'torchvision')


def test_caffe_entries_carry_only_published_checksums():
    vgg = WEIGHTS['vgg16_caffe']
    assert vgg.url == (
        'http://www.robots.ox.ac.uk/~vgg/software/very_deep/caffe/VGG_ILSVRC_16_layers.caffemodel'
    )
    assert vgg.checksums == dict(sha1='9363e1f6d65f7dba68c4f27a1e62105cdf6c4e24')
    assert (vgg.layout, vgg.convention) == (CAFFE_VGG, 'caffe')
    expected = {
        'fcn32s-heavy-pascal': ('32s', dict(sha1='05eb922d7829c39448f57e5ab9d8cd75d6c0be6d')),
        'fcn16s-heavy-pascal': ('16s', {}),
        'fcn8s-heavy-pascal': (
            '8s',
            dict(
                sha1='c449ea74dd7d83751d1357d6a8c323fcf4038962',
                md5='c03b2953ebd846c270da1a8e8f200c09',
            ),
        ),
        'fcn8s-atonce-pascal': ('8s-atonce', {}),
        'pascalcontext-fcn32s-heavy': ('32s', {}),
        'pascalcontext-fcn16s-heavy': ('16s', {}),
        'pascalcontext-fcn8s-heavy': ('8s', {}),
        'nyud-fcn32s-color-heavy': ('32s', {}),
        'nyud-fcn32s-hha-heavy': ('32s', {}),
        'nyud-fcn32s-color-hha-heavy': ('32s', {}),
        'fcn-alexnet-pascal': ('32s', {}),
        'siftflow-fcn32s-heavy': ('32s', {}),
        'siftflow-fcn16s-heavy': ('16s', {}),
        'siftflow-fcn8s-heavy': ('8s', {}),
    }
    for name, (variant, checksums) in expected.items():
        entry = WEIGHTS[name]
        assert entry.url == f'{FCN}{name}.caffemodel'
        assert (entry.layout, entry.variant, entry.checksums) == (CAFFE_FCN, variant, checksums)
        assert ('no checksum published' in entry.note) == (not checksums)
    assert set(WEIGHTS) == set(TORCHVISION_FILES) | set(expected) | {'vgg16_caffe'}


def test_a_url_with_a_table_file_name_gets_the_entry_checksums():
    entry = find_weights('http://mirror.local/models/vgg16-397923af.pth')
    assert entry.url == 'http://mirror.local/models/vgg16-397923af.pth'
    assert (entry.name, entry.checksums) == ('vgg16', dict(sha256='397923af'))
    assert find_weights('fcn8s-heavy-pascal') is WEIGHTS['fcn8s-heavy-pascal']


def test_other_urls_are_checked_by_the_hash_in_their_name_if_they_have_one():
    named = find_weights('https://host/x/fcn_r50-d8_20200604-efe53f0d.pth')
    assert (named.name, named.layout, named.checksums) == (None, None, dict(sha256='efe53f0d'))
    assert find_weights('https://host/x/model-d8.pth').checksums == {}
    assert find_weights('https://host/x/model.pth').checksums == {}
    assert find_weights('checkpoints/vgg16.pth') is None
    assert find_weights('vgg17') is None
    assert HASH_IN_NAME.search('vgg16_features-amdegroot-88682ab5.pth').group(1) == '88682ab5'


@pytest.mark.parametrize(
    'kwargs, match',
    [
        (dict(checksums=dict(crc32='0123abcd')), "algorithm 'crc32'"),
        (dict(checksums=dict(sha256='397923a')), 'at least 8 digits'),
        (dict(checksums=dict(sha1='9363E1F6')), 'lower-case hex'),
        (dict(layout='onnx'), "layout='onnx'"),
    ],
)
def test_bad_entries_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        WeightsEntry(url='https://host/w.pth', **kwargs)
