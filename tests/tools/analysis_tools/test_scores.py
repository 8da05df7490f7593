import math
from pathlib import Path

import numpy as np
import pytest
import torch
from analysis_lib.scores import (
    ClassScores,
    format_scores_table,
    score_checkpoint,
    scores_from_areas,
    write_scores_json,
)
from mmseg.evaluation import IoUMetric

from mmseg_fcn_skip.apis import build_inference_pipeline, load_model, predict_labels
from mmseg_fcn_skip.apis.inference import read_image
from mmseg_fcn_skip.apis.skips import read_label_map
from tests.helpers.light_models import light_checkpoint

CLASSES = ('a', 'b', 'c', 'd')


def areas(pred: list, label: list) -> tuple:
    """IoUMetric's per-image areas of a small prediction and label (4 classes)."""
    return IoUMetric.intersect_and_union(torch.tensor(pred), torch.tensor(label), 4, 255)


@pytest.fixture
def two_images() -> list:
    # class 0: label 5, predicted 3 (all right): IoU 3/5, acc 3/5
    # class 1: label 1, predicted 2, 1 right: IoU 1/2, acc 1
    # class 2: label 1, predicted 2 (one on a labelled pixel), 1 right: IoU 1/2, acc 1
    # class 3: nowhere: NaN; the 255 pixel is left out
    return [areas([[0, 1], [1, 2]], [[0, 0], [1, 2]]), areas([[0, 0], [2, 2]], [[0, 0], [0, 255]])]


def test_per_class_scores_by_hand(two_images):
    scores = scores_from_areas(two_images, CLASSES)
    assert np.allclose(scores.iou[:3], [3 / 5, 1 / 2, 1 / 2])
    assert np.allclose(scores.acc[:3], [3 / 5, 1, 1])
    assert math.isnan(scores.iou[3]) and math.isnan(scores.acc[3])
    assert scores.aacc == pytest.approx(5 / 7)
    assert scores.num_images == 2
    assert scores.summary() == {'aAcc': 71.43, 'mIoU': 53.33, 'mAcc': 86.67}
    as_dict = scores.to_dict()
    assert as_dict['IoU'] == {'a': 60.0, 'b': 50.0, 'c': 50.0, 'd': None}
    assert as_dict['Acc']['a'] == 60.0 and as_dict['num_images'] == 2


def test_summary_equals_what_iou_metric_reports(two_images):
    metric = IoUMetric()
    metric.dataset_meta = dict(classes=CLASSES)
    assert scores_from_areas(two_images, CLASSES).summary() == pytest.approx(
        metric.compute_metrics(two_images)
    )


def test_nan_to_num_is_honoured(two_images):
    scores = scores_from_areas(two_images, CLASSES, nan_to_num=0)
    assert scores.iou[3] == 0
    assert scores.summary()['mIoU'] == 40.0  # (0.6 + 0.5 + 0.5 + 0) / 4


def test_no_images_is_an_error():
    with pytest.raises(
        ValueError, match='no image was scored; check that the validation set is not empty'
    ):
        scores_from_areas([], CLASSES)


def test_table_has_a_row_per_run_and_a_column_per_class(two_images, tmp_path):
    first = scores_from_areas(two_images, CLASSES)
    second = scores_from_areas(two_images[:1], CLASSES)  # image 1: IoU 1/2, 1/2, 1, -
    table = format_scores_table({'run1': first, 'run2': second})
    assert table.splitlines() == [
        '| model | mIoU | aAcc | mAcc | IoU a | IoU b | IoU c | IoU d |',
        '|---|---|---|---|---|---|---|---|',
        '| run1 | 53.33 | 71.43 | 86.67 | 60.00 | 50.00 | 50.00 | - |',
        '| run2 | 66.67 | 75.00 | 83.33 | 50.00 | 50.00 | 100.00 | - |',
    ]
    path = write_scores_json({'run1': first}, tmp_path / 'out' / 'scores.json')
    assert path.read_text().count('"mIoU": 53.33') == 1


def test_table_refuses_runs_of_different_classes(two_images):
    other = ClassScores(('x', 'y'), np.ones(2), np.ones(2), 1.0, 1)
    with pytest.raises(ValueError, match='different classes .* compare runs of the same'):
        format_scores_table({'a': scores_from_areas(two_images, CLASSES), 'b': other})


@pytest.fixture(scope='module')
def light(tmp_path_factory):
    return light_checkpoint(tmp_path_factory.mktemp('light'))


def data_options(root: str) -> dict:
    return {
        'val_dataloader.dataset.data_root': root,
        'val_dataloader.num_workers': 0,
        'val_dataloader.persistent_workers': False,
    }


def test_checkpoint_scores_equal_a_confusion_matrix_of_its_predictions(light, toy_data_root):
    scores = score_checkpoint(*light, cfg_options=data_options(toy_data_root))
    model = load_model(*light)
    pipeline = build_inference_pipeline(model.cfg)
    confusion = np.zeros((5, 5), np.int64)  # rows: truth, columns: prediction
    images = sorted((Path(toy_data_root) / 'img_dir' / 'val').glob('*.png'))
    for image in images:
        truth = read_label_map(Path(toy_data_root) / 'ann_dir' / 'val' / image.name)
        pred = predict_labels(model, pipeline, [read_image(image)])[0]
        valid = truth != 255
        np.add.at(confusion, (truth[valid], pred[valid]), 1)
    right = np.diag(confusion)
    with np.errstate(invalid='ignore'):
        iou = right / (confusion.sum(0) + confusion.sum(1) - right)
        acc = right / confusion.sum(1)
    assert scores.num_images == len(images) == 4
    assert np.allclose(scores.iou, iou, equal_nan=True)
    assert np.allclose(scores.acc, acc, equal_nan=True)
    assert scores.aacc == pytest.approx(right.sum() / confusion.sum())
    assert np.count_nonzero(confusion.sum(0)) > 1  # the model predicts several classes


def test_only_an_iou_metric_can_be_scored_per_class(light, toy_data_root):
    options = dict(
        data_options(toy_data_root), val_evaluator=[dict(type='IoUMetric'), dict(type='IoUMetric')]
    )
    with pytest.raises(
        ValueError,
        match='val_evaluator must be one IoUMetric to score '
        r"per class, got \['IoUMetric', 'IoUMetric'\]",
    ):
        score_checkpoint(*light, cfg_options=options)


def test_the_json_file_is_indented_by_two_and_ends_with_a_newline(tmp_path):
    run = ClassScores(('bg', 'bar'), np.array([0.5, 0.25]), np.array([0.75, 0.5]), 0.9, 3)
    path = write_scores_json({'FCN-8s': run}, tmp_path / 'out' / 'scores.json')
    text = path.read_text()
    assert text.endswith('}\n')
    assert text.splitlines()[1] == '  "FCN-8s": {'
