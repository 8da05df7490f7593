"""MultiTaskEncoderDecoder: losses per task, every task predicted as mmseg would."""

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_fcn_skip.models.segmentors.multi_task import check_task_name, task_fields
from tests.helpers.multi_task_models import (
    GEO_CLASSES,
    light_multi_task_config,
    light_multi_task_model,
    random_batch,
    single_task_twin,
)

SIZE = (40, 44)


def _labelled_samples(size, num_classes=5, label_size=None, seed=1):
    generator = torch.Generator().manual_seed(seed)
    label_size = label_size or size
    sample = SegDataSample(
        metainfo=dict(img_shape=size, ori_shape=size, pad_shape=size, padding_size=[0, 0, 0, 0])
    )
    sample.gt_sem_seg = PixelData(
        data=torch.randint(0, num_classes, (1, *label_size), generator=generator)
    )
    geo = torch.randint(0, GEO_CLASSES, (1, *label_size), generator=generator)
    geo[:, :3] = 255
    sample.gt_geo_seg = PixelData(data=geo)
    return [sample]


def _geo_loss_by_hand(model, inputs, geo_label):
    logits = model.task_heads['geo'].forward(model.extract_feat(inputs))
    logits = logits[..., : geo_label.shape[-2], : geo_label.shape[-1]]
    # mmseg's CrossEntropyLoss averages over every pixel, ignored ones included
    summed = F.cross_entropy(logits, geo_label[:, 0], ignore_index=255, reduction='sum')
    return summed / geo_label.numel()


def test_task_fields_names():
    assert task_fields('geo') == ('gt_geo_seg', 'geo_seg_logits', 'pred_geo_seg')


@pytest.mark.parametrize('name', ['decode', 'sem', 'aux_0', 'geo-2', 'class', '', 3])
def test_bad_task_names_are_refused(name):
    with pytest.raises(ValueError, match='task name'):
        check_task_name(name)


def test_task_heads_must_be_a_dict():
    cfg = light_multi_task_config()
    cfg.model.task_heads = [cfg.model.task_heads.geo]
    init_default_scope('mmseg')
    with pytest.raises(TypeError, match='task_heads=dict'):
        MODELS.build(cfg.model)


def test_loss_sums_every_task_with_prefixes():
    model = light_multi_task_model()
    inputs = random_batch(SIZE)
    samples = _labelled_samples(SIZE)
    losses = model.loss(inputs, samples)
    assert set(losses) == {'decode.loss_ce', 'decode.acc_seg', 'geo.loss_ce', 'geo.acc_seg'}
    expected = _geo_loss_by_hand(model, inputs, samples[0].gt_geo_seg.data[None])
    torch.testing.assert_close(losses['geo.loss_ce'], expected)
    # the first task's loss is mmseg's own, on gt_sem_seg
    twin = single_task_twin(model, 'decode')
    torch.testing.assert_close(
        losses['decode.loss_ce'], twin.loss(inputs, samples)['decode.loss_ce']
    )


def test_task_labels_are_padded_like_gt_sem_seg():
    model = light_multi_task_model()
    inputs = random_batch(SIZE)
    samples = _labelled_samples(SIZE, label_size=(32, 36))
    geo = samples[0].gt_geo_seg.data
    padded = torch.full((1, 1, *SIZE), 255, dtype=geo.dtype)
    padded[..., :32, :36] = geo
    losses = model.loss(inputs, samples)
    torch.testing.assert_close(losses['geo.loss_ce'], _geo_loss_by_hand(model, inputs, padded))


def test_task_labels_larger_than_the_input_are_not_cut():
    """Labels a row and a column larger than the input: the loss covers every label
    pixel, as the first task's loss covers every pixel of gt_sem_seg."""
    model = light_multi_task_model()
    inputs = random_batch(SIZE)
    samples = _labelled_samples(SIZE, label_size=(SIZE[0] + 1, SIZE[1] + 1))
    losses = model.loss(inputs, samples)
    expected = _geo_loss_by_hand(model, inputs, samples[0].gt_geo_seg.data[None])
    torch.testing.assert_close(losses['geo.loss_ce'], expected)


def test_loss_without_task_labels_names_the_task_and_transforms():
    model = light_multi_task_model()
    samples = _labelled_samples(SIZE)
    del samples[0].gt_geo_seg
    samples[0].set_metainfo(dict(img_path='data/siftflow/images/coast_n1.jpg'))
    with pytest.raises(KeyError, match=r"coast_n1.jpg.*gt_geo_seg.*'geo'.*LoadTaskAnnotations"):
        model.loss(random_batch(SIZE), samples)


def _meta(size, ori_shape=None, padding=(0, 0, 0, 0), flip=None):
    meta = dict(
        img_shape=size,
        ori_shape=ori_shape or size,
        pad_shape=size,
        padding_size=list(padding),
        flip=flip is not None,
    )
    if flip:
        meta['flip_direction'] = flip
    return SegDataSample(metainfo=meta)


@pytest.mark.parametrize(
    'meta',
    [
        dict(),
        dict(ori_shape=(30, 50)),
        dict(padding=(0, 4, 0, 6)),
        dict(flip='horizontal'),
        dict(flip='vertical', ori_shape=(21, 23)),
    ],
    ids=['plain', 'resized', 'padded', 'hflip', 'vflip-resized'],
)
def test_predict_gives_every_task_as_mmseg_gives_one(meta):
    model = light_multi_task_model()
    inputs = random_batch(SIZE)
    with torch.no_grad():
        result = model.predict(inputs, [_meta(SIZE, **meta)])[0]
        for task, (logits_field, pred_field) in {
            'decode': ('seg_logits', 'pred_sem_seg'),
            'geo': ('geo_seg_logits', 'pred_geo_seg'),
        }.items():
            expected = single_task_twin(model, task).predict(inputs, [_meta(SIZE, **meta)])[0]
            torch.testing.assert_close(result.get(logits_field).data, expected.seg_logits.data)
            assert torch.equal(result.get(pred_field).data, expected.pred_sem_seg.data)
    assert result.geo_seg_logits.shape == tuple(meta.get('ori_shape', SIZE))
    assert result.geo_seg_logits.data.shape[0] == GEO_CLASSES
    assert result.geo_seg_logits.data.std(dim=(1, 2)).min() > 0.1  # not a constant map


def test_predict_without_samples_is_at_the_input_size():
    model = light_multi_task_model()
    with torch.no_grad():
        results = model.predict(random_batch(SIZE, batch=2))
    assert len(results) == 2
    assert results[1].pred_geo_seg.shape == SIZE
    assert results[1].seg_logits.data.shape == (5, *SIZE)


def test_slide_runs_the_backbone_once_a_crop_and_matches_mmseg():
    model = light_multi_task_model()
    model.test_cfg = ConfigDict(mode='slide', crop_size=(32, 32), stride=(16, 20))
    calls = []
    model.backbone.register_forward_hook(lambda *args: calls.append(1))
    inputs = random_batch((48, 52))
    with torch.no_grad():
        result = model.predict(inputs, [_meta((48, 52))])[0]
    assert len(calls) == 2 * 2  # 2 crops down, 2 across
    for task, field in (('decode', 'seg_logits'), ('geo', 'geo_seg_logits')):
        twin = single_task_twin(model, task)
        with torch.no_grad():
            expected = twin.predict(inputs, [_meta((48, 52))])[0]
        torch.testing.assert_close(result.get(field).data, expected.seg_logits.data)


def test_slide_on_an_image_narrower_than_the_crop_runs_one_crop_across():
    """A 24-pixel-wide image under 32x32 crops moved by 1 across: one crop across (two
    down), the logits of mmseg's slide inference, none empty."""
    model = light_multi_task_model()
    model.test_cfg = ConfigDict(mode='slide', crop_size=(32, 32), stride=(16, 1))
    calls = []
    model.backbone.register_forward_hook(lambda *args: calls.append(1))
    inputs = random_batch((48, 24))
    with torch.no_grad():
        result = model.predict(inputs, [_meta((48, 24))])[0]
    assert len(calls) == 2
    for task, field in (('decode', 'seg_logits'), ('geo', 'geo_seg_logits')):
        twin = single_task_twin(model, task)
        with torch.no_grad():
            expected = twin.predict(inputs, [_meta((48, 24))])[0]
        assert result.get(field).data.isfinite().all()
        torch.testing.assert_close(result.get(field).data, expected.seg_logits.data)


def test_unknown_test_mode_is_refused():
    model = light_multi_task_model()
    model.test_cfg = ConfigDict(mode='tiles')
    with pytest.raises(ValueError, match="'whole' or 'slide'"):
        model.predict(random_batch(SIZE))


def test_tensor_mode_first_task_or_all_tasks():
    model = light_multi_task_model()
    inputs = random_batch(SIZE)
    with torch.no_grad():
        first = model(inputs, mode='tensor')
        model.tensor_all_tasks = True
        both = model(inputs, mode='tensor')
    assert first.shape[1] == 5
    assert isinstance(both, tuple) and [t.shape[1] for t in both] == [5, GEO_CLASSES]
    torch.testing.assert_close(both[0], first)


def test_init_weights_initialises_every_task_head_as_the_first():
    model = light_multi_task_model()
    for head in (model.decode_head, model.task_heads['geo']):
        head.conv_seg.weight.data.fill_(5.0)
    model.init_weights()
    first, geo = model.decode_head.conv_seg.weight, model.task_heads['geo'].conv_seg.weight
    # both re-initialised by their score init (not left at 5, not PyTorch's default)
    assert first.abs().max() < 0.1 and geo.abs().max() < 0.1
    assert geo.std().item() == pytest.approx(first.std().item(), rel=0.5)


def test_state_dict_keys_of_the_task_heads():
    keys = light_multi_task_model().state_dict()
    assert 'task_heads.geo.conv_seg.weight' in keys
    assert keys['task_heads.geo.conv_seg.weight'].shape[0] == GEO_CLASSES
