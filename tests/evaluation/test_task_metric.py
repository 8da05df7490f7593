"""TaskMetric: a metric run on a further task's fields, with that task's classes."""

import logging

import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger

from mmseg_fcn_skip.evaluation import FCNMetric, TaskMetric

SEM_CLASSES = ('sky', 'road', 'car', 'tree')
GEO_CLASSES = ('sky', 'horizontal', 'vertical')
META = dict(classes=SEM_CLASSES, task_classes=dict(geo=GEO_CLASSES))
# geo: 6 pixels, labels 0 0 1 1 2 2 (and one ignored), predictions 0 1 1 1 2 0
GEO_LABEL = [0, 0, 1, 1, 2, 2, 255]
GEO_PRED = [0, 1, 1, 1, 2, 0, 2]
# semantic: 4 pixels, all right
SEM = [0, 1, 2, 3]


def _sample(path='coast_1.jpg'):
    def pixels(values):
        return dict(data=torch.tensor(values).reshape(1, 1, -1))

    return dict(
        img_path=path,
        gt_sem_seg=pixels(SEM),
        pred_sem_seg=pixels(SEM),
        gt_geo_seg=pixels(GEO_LABEL),
        pred_geo_seg=pixels(GEO_PRED),
    )


def test_task_scores_from_the_task_fields_by_hand():
    metric = TaskMetric(task='geo', metric=dict(type='FCNMetric'))
    metric.dataset_meta = META
    metric.process({}, [_sample()])
    scores = metric.evaluate(1)
    # n_ii = (1, 2, 1), t = (2, 2, 2), predicted (2, 3, 1): IU 1/3, 2/3, 1/2
    assert scores == pytest.approx(
        {
            'geo/aAcc': 100 * 4 / 6,
            'geo/mAcc': 100 * (1 / 2 + 2 / 2 + 1 / 2) / 3,
            'geo/mIoU': 100 * (1 / 3 + 2 / 3 + 1 / 2) / 3,
            'geo/fwIoU': 100 * (2 / 3 + 4 / 3 + 1) / 6,
        },
        abs=0.005,
    )


def test_the_inner_metric_sees_the_task_classes_and_table(capsys):
    metric = TaskMetric(task='geo', metric=dict(type='IoUMetric'))
    metric.dataset_meta = dict(META, palette=[[0, 0, 0]] * 4)
    assert metric.metric.dataset_meta['classes'] == GEO_CLASSES
    assert 'palette' not in metric.metric.dataset_meta  # the first task's palette is not geo's
    MMLogger.get_instance('task_metric_test', log_level=logging.INFO)
    metric.process({}, [_sample()])
    scores = metric.evaluate(1)
    assert set(scores) == {'geo/aAcc', 'geo/mIoU', 'geo/mAcc'}
    out = capsys.readouterr().out
    assert 'task geo:' in out and 'horizontal' in out and 'road' not in out


def test_with_the_first_task_metric_in_one_evaluator():
    evaluator = Evaluator(
        [dict(type='FCNMetric'), dict(type='TaskMetric', task='geo', metric=dict(type='FCNMetric'))]
    )
    evaluator.dataset_meta = META
    evaluator.process([_sample(), _sample('coast_2.jpg')], {})
    scores = evaluator.evaluate(2)
    assert scores['aAcc'] == 100.0 and scores['geo/aAcc'] == pytest.approx(100 * 4 / 6, abs=0.005)


def test_a_task_the_dataset_does_not_load_is_named():
    metric = TaskMetric(task='depth', metric=dict(type='IoUMetric'))
    with pytest.raises(ValueError, match=r"no labels of task 'depth'.*tasks: 'geo'"):
        metric.dataset_meta = META
    with pytest.raises(ValueError, match=r"no labels of task 'depth'.*tasks: none"):
        metric.dataset_meta = dict(classes=SEM_CLASSES)


def test_a_sample_without_the_task_prediction_is_named():
    metric = TaskMetric(task='geo', metric=dict(type='IoUMetric'))
    metric.dataset_meta = META
    sample = _sample('coast_7.jpg')
    del sample['pred_geo_seg']
    with pytest.raises(KeyError, match='coast_7.jpg has no pred_geo_seg.*task_heads.geo'):
        metric.process({}, [sample])


def test_bad_arguments():
    with pytest.raises(TypeError, match="metric=dict\\(type='IoUMetric'\\)"):
        TaskMetric(task='geo', metric='IoUMetric')
    with pytest.raises(ValueError, match='reserved'):
        TaskMetric(task='sem', metric=dict(type='IoUMetric'))


def test_excluded_classes_pass_through_to_fcn_metric():
    metric = TaskMetric(task='geo', metric=dict(type='FCNMetric', exclude_classes=['sky']))
    assert isinstance(metric.metric, FCNMetric)
    metric.dataset_meta = META
    metric.process({}, [_sample()])
    assert metric.evaluate(1)['geo/mIoU'] == pytest.approx(100 * (2 / 3 + 1 / 2) / 2, abs=0.005)
