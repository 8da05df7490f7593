"""tools/dataset_converters/sbd.py on small synthetic SBD and VOC trees."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.io import savemat

from tests.helpers.scores_by_hand import confusion_matrix, scores

REPO_ROOT = Path(__file__).resolve().parents[2]
SBD_TRAIN = ['2008_000002', '2008_000003', '2010_000005']
SBD_VAL = ['2011_000001']
# VOC2011 val: two images in SBD train, one in SBD val, two in neither.
VOC2011_VAL = ['2008_000003', '2011_000001', '2007_000033', '2010_000005', '2007_000042']
SEG11VALID = ['2011_000001', '2007_000033', '2007_000042']


def _load_tool():
    path = REPO_ROOT / 'tools' / 'dataset_converters' / 'sbd.py'
    spec = importlib.util.spec_from_file_location('sbd_tool', path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # worker processes unpickle its functions by name
    spec.loader.exec_module(module)
    return module


sbd = _load_tool()


def _label(seed, shape=(20, 30)):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 21, size=shape).astype(np.uint8)


def write_sbd_mat(path: Path, label: np.ndarray) -> None:
    """An SBD cls file: struct GTcls (Segmentation, Boundaries, CategoriesPresent)."""
    gt = dict(
        Segmentation=label,
        Boundaries=np.zeros((20, 1), dtype=object),
        CategoriesPresent=np.unique(label[label > 0]).astype(np.uint8),
    )
    savemat(str(path), dict(GTcls=gt))


@pytest.fixture
def trees(tmp_path):
    """``(sbd_dir, voc_root, voc2011_val, labels)``: tiny SBD, VOC2012, VOC2011."""
    sbd_dir, voc_root = tmp_path / 'benchmark_RELEASE' / 'dataset', tmp_path / 'VOC2012'
    (sbd_dir / 'cls').mkdir(parents=True)
    labels = {}
    for seed, image_id in enumerate(SBD_TRAIN + SBD_VAL):
        labels[image_id] = _label(seed, shape=(20 + seed, 30))
        write_sbd_mat(sbd_dir / 'cls' / f'{image_id}.mat', labels[image_id])
    (sbd_dir / 'train.txt').write_text('\n'.join(SBD_TRAIN) + '\n\n')
    (sbd_dir / 'val.txt').write_text('\n'.join(SBD_VAL) + '\n')
    for folder in ('SegmentationClass', 'JPEGImages'):
        (voc_root / folder).mkdir(parents=True)
    for seed, image_id in enumerate(sorted(set(VOC2011_VAL + SBD_TRAIN))):
        # An image has one size: that of its SBD label where SBD has one.
        size = labels[image_id].shape if image_id in labels else (24, 31)
        image = np.random.default_rng(seed).integers(0, 255, (*size, 3), np.uint8)
        Image.fromarray(image).save(voc_root / 'JPEGImages' / f'{image_id}.jpg')
        if image_id in VOC2011_VAL:
            Image.fromarray(_label(100 + seed, size)).save(
                voc_root / 'SegmentationClass' / f'{image_id}.png'
            )
    voc2011_val = tmp_path / 'VOC2011' / 'ImageSets' / 'Segmentation' / 'val.txt'
    voc2011_val.parent.mkdir(parents=True)
    voc2011_val.write_text('\n'.join(VOC2011_VAL) + '\n')
    return sbd_dir, voc_root, voc2011_val, labels


def test_prepare_writes_labels_and_splits(trees, capsys):
    sbd_dir, voc_root, _, labels = trees
    # VOC2011 is found next to VOC2012 by default.
    sbd.main([str(sbd_dir), str(voc_root), '--nproc', '2'])
    for image_id, label in labels.items():
        written = Image.open(voc_root / 'SegmentationClassSBD' / f'{image_id}.png')
        assert written.mode == 'L'
        assert np.array_equal(np.array(written), label)
    splits = voc_root / 'ImageSets' / 'Segmentation'
    assert (splits / 'sbd_train.txt').read_text().split() == SBD_TRAIN
    assert (splits / 'seg11valid.txt').read_text().split() == SEG11VALID
    out = capsys.readouterr().out
    assert '4 SBD label maps' in out
    assert '3 ids' in out and 'the paper has 736' in out


def test_seg11valid_keeps_voc_order_and_excludes_only_sbd_train():
    assert sbd.seg11valid_ids(VOC2011_VAL, SBD_TRAIN) == SEG11VALID
    assert sbd.seg11valid_ids(['b', 'a', 'c'], ['c']) == ['b', 'a']


def test_sbd_label_checks(tmp_path):
    instances = dict(GTinst=dict(Segmentation=np.zeros((2, 2))))
    savemat(str(tmp_path / 'inst.mat'), instances)
    with pytest.raises(ValueError, match='no GTcls.Segmentation'):
        sbd.sbd_label(tmp_path / 'inst.mat')
    write_sbd_mat(tmp_path / 'bad.mat', np.full((3, 4), 30, np.uint8))
    with pytest.raises(ValueError, match=r'values \[30\]'):
        sbd.sbd_label(tmp_path / 'bad.mat')
    label = np.array([[0, 255], [20, 7]], np.uint8)
    write_sbd_mat(tmp_path / 'ok.mat', label)
    assert sbd.sbd_label(tmp_path / 'ok.mat').tolist() == label.tolist()


def test_missing_inputs_are_named(trees):
    sbd_dir, voc_root, voc2011_val, _ = trees
    with pytest.raises(FileNotFoundError, match='split file .*nowhere.txt'):
        sbd.prepare(sbd_dir, voc_root, voc2011_val.parent / 'nowhere.txt')
    (voc_root / 'SegmentationClass' / '2007_000042.png').unlink()
    with pytest.raises(FileNotFoundError, match='1 seg11valid images .* 2007_000042'):
        sbd.prepare(sbd_dir, voc_root, voc2011_val)
    (sbd_dir / 'cls' / '2008_000003.mat').unlink()
    with pytest.raises(FileNotFoundError, match='1 SBD train images .* 2008_000003'):
        sbd.prepare(sbd_dir, voc_root, voc2011_val)


def test_help(capsys):
    with pytest.raises(SystemExit, match='^0$'):
        sbd.main(['--help'])

    text = capsys.readouterr().out
    assert 'SBD_DIR' in text and 'VOC_ROOT' in text and '--voc2011-val' in text


def test_prepared_tree_trains_and_validates_with_the_seg11valid_config(trees, tmp_path):
    """The outputs are what configs/_base_/datasets/sbd_seg11valid.py reads."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    sbd_dir, voc_root, voc2011_val, _ = trees
    sbd.prepare(sbd_dir, voc_root, voc2011_val)
    cfg = Config.fromfile(
        REPO_ROOT / 'configs/fcn_skip_caffe/fcn32s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py'
    )
    cfg.work_dir = str(tmp_path / 'work')
    cfg.model.backbone.update(base_channels=8, fc_channels=16, init_cfg=None)
    cfg.model.decode_head.in_channels = (16,)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].update(num_workers=0, persistent_workers=False)
        cfg[loader].dataset.data_root = str(voc_root)
    cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg.default_hooks.logger.interval = 1
    runner = Runner.from_cfg(cfg)
    assert len(runner.train_dataloader.dataset) == len(SBD_TRAIN)
    runner.train()
    reported = runner.val()
    assert len(runner.val_dataloader.dataset) == len(SEG11VALID)

    def voc_label(output):  # seg11valid is scored on VOC's own labels
        image_id = Path(output.img_path).stem
        return np.array(Image.open(voc_root / 'SegmentationClass' / f'{image_id}.png'))

    counts = confusion_matrix(runner.model, runner.val_dataloader, 21, truth_of=voc_label)
    assert counts.sum() == sum(
        labels.shape[0] * labels.shape[1]
        for labels in (
            np.array(Image.open(voc_root / 'SegmentationClass' / f'{i}.png')) for i in SEG11VALID
        )
    )
    assert reported == pytest.approx(scores(counts), abs=0.01)
