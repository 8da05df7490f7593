"""FCNMetric against scores computed by hand from a confusion matrix."""

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS
from PIL import Image

from mmseg_fcn_skip.evaluation import FCNMetric, fcn_scores

CLASSES = ('a', 'b', 'c', 'd', 'e')
# n_ij: pixels of class i (row) predicted as class j (column). Class 3 is never in
# the ground truth but is predicted twice; class 4 appears nowhere.
CONFUSION = [
    [5, 1, 0, 2, 0],
    [0, 3, 1, 0, 0],
    [1, 0, 6, 0, 0],
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0],
]
# By hand: t = (8, 4, 7, 0, 0), 19 pixels; n_ii = (5, 3, 6, 0, 0);
# predicted per class (6, 4, 7, 2, 0).
EXPECTED = {
    'aAcc': 100 * 14 / 19,
    'mAcc': 100 * (5 / 8 + 3 / 4 + 6 / 7) / 3,  # class 3, 4: no GT, left out
    'mIoU': 100 * (5 / 9 + 3 / 5 + 6 / 8 + 0) / 4,  # class 3: IU 0; class 4 left out
    'fwIoU': 100 * (8 * 5 / 9 + 4 * 3 / 5 + 7 * 6 / 8) / 19,
}
IGNORE = 255


def _samples(confusion, ignored=3):
    """Two images whose pixels realise ``confusion``, plus ignored pixels."""
    pairs = [(i, j) for i, row in enumerate(confusion) for j, n in enumerate(row) for _ in range(n)]
    pairs += [(IGNORE, 1)] * ignored
    label, pred = torch.tensor(pairs).t()
    samples = []
    for part in (slice(0, 10), slice(10, None)):
        samples.append(
            dict(
                gt_sem_seg=dict(data=label[part].reshape(1, 1, -1)),
                pred_sem_seg=dict(data=pred[part].reshape(1, 1, -1)),
                img_path=f'img{part.start}.jpg',
            )
        )
    return samples


def _evaluate(metric, samples):
    metric.dataset_meta = dict(classes=CLASSES)
    for sample in samples:
        metric.process({}, [sample])
    return metric.compute_metrics(metric.results)


def test_scores_match_hand_computation():
    scores = _evaluate(FCNMetric(), _samples(CONFUSION))
    assert list(scores) == ['aAcc', 'mAcc', 'mIoU', 'fwIoU']
    for name, value in EXPECTED.items():
        assert scores[name] == pytest.approx(value, abs=0.005), name


def test_ignored_pixels_count_nowhere():
    few = _evaluate(FCNMetric(), _samples(CONFUSION, ignored=0))
    many = _evaluate(FCNMetric(), _samples(CONFUSION, ignored=50))
    assert few == many


def test_ignore_index_is_configurable():
    scores = _evaluate(FCNMetric(ignore_index=0), _samples(CONFUSION, ignored=0))
    # Class 0 pixels are ignored now: 11 pixels left, 9 right.
    assert scores['aAcc'] == pytest.approx(100 * 9 / 11, abs=0.005)


def test_mean_iu_and_accuracies_agree_with_iou_metric():
    ours = _evaluate(FCNMetric(), _samples(CONFUSION))
    theirs = _evaluate(IoUMetric(), _samples(CONFUSION))
    assert {k: ours[k] for k in ('aAcc', 'mAcc', 'mIoU')} == pytest.approx(theirs)


def test_fcn_scores_from_counts():
    matrix = torch.tensor(CONFUSION, dtype=torch.float64)
    intersect, label = matrix.diagonal(), matrix.sum(1)
    union = label + matrix.sum(0) - intersect
    scores = fcn_scores(intersect, union, label)
    for name, value in EXPECTED.items():
        assert 100 * scores[name] == pytest.approx(value, rel=1e-12), name


def test_perfect_prediction_scores_100():
    perfect = [[4, 0, 0, 0, 0], [0, 2, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 9, 0], [0, 0, 0, 0, 0]]
    scores = _evaluate(FCNMetric(), _samples(perfect))
    assert scores == dict(aAcc=100.0, mAcc=100.0, mIoU=100.0, fwIoU=100.0)


def test_registered_and_usable_in_an_evaluator():
    evaluator = Evaluator(METRICS.build(dict(type='FCNMetric', prefix='seg11valid')))
    evaluator.dataset_meta = dict(classes=CLASSES)
    evaluator.process(_samples(CONFUSION))
    scores = evaluator.evaluate(2)
    assert scores['seg11valid/fwIoU'] == pytest.approx(EXPECTED['fwIoU'], abs=0.005)


def test_format_only_writes_predictions(tmp_path):
    metric = FCNMetric(format_only=True, output_dir=str(tmp_path))
    samples = _samples(CONFUSION)
    assert _evaluate(metric, samples) == {}
    written = np.array(Image.open(tmp_path / 'img0.png'))
    predicted = samples[0]['pred_sem_seg']['data']
    assert written.ravel().tolist() == predicted.ravel().tolist()


def test_excluded_classes_leave_the_means_whatever_is_predicted():
    # Class 3 ('d') is predicted twice and never labelled; excluded, it no longer
    # counts in the mean IU with IU 0. Class 0 ('a') is labelled: excluded, its
    # pixels still count in the pixel accuracy but not in the means.
    scores = _evaluate(FCNMetric(exclude_classes=('a', 'd')), _samples(CONFUSION))
    assert scores['aAcc'] == pytest.approx(100 * 14 / 19, abs=0.005)
    assert scores['mAcc'] == pytest.approx(100 * (3 / 4 + 6 / 7) / 2, abs=0.005)
    assert scores['mIoU'] == pytest.approx(100 * (3 / 5 + 6 / 8) / 2, abs=0.005)
    assert scores['fwIoU'] == pytest.approx(100 * (4 * 3 / 5 + 7 * 6 / 8) / 11, abs=0.005)


def test_excluding_an_unknown_class_names_it():
    with pytest.raises(ValueError, match=r"exclude_classes \['cow'\] are not classes"):
        _evaluate(FCNMetric(exclude_classes='cow'), _samples(CONFUSION))
