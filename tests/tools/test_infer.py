import numpy as np
import pytest
from PIL import Image

from mmseg_fcn_skip.apis import build_inference_pipeline, load_model, predict_labels
from mmseg_fcn_skip.apis.inference import blend, read_image
from mmseg_fcn_skip.datasets import TOY_SHAPES_PALETTE
from tests.helpers.images import write_images
from tests.helpers.light_models import light_checkpoint
from tests.helpers.processes import load_tool, run_tool

SIZES = [(37, 53), (64, 96), (101, 67), (64, 96)]


@pytest.fixture(scope='module')
def fcn8s(tmp_path_factory):
    return light_checkpoint(tmp_path_factory.mktemp('fcn8s'))


def test_infer_a_glob_writes_labels_and_overlays(fcn8s, tmp_path):
    config, checkpoint = fcn8s
    images = write_images(tmp_path / 'photos' / 'day1', SIZES[:2]) + write_images(
        tmp_path / 'photos' / 'day2', SIZES[2:]
    )
    pattern = str(tmp_path / 'photos' / '*' / '*.png')
    out = tmp_path / 'out'
    done = run_tool(
        'infer',
        str(config),
        str(checkpoint),
        pattern,
        '--out',
        str(out),
        '--device',
        'cpu',
        '--batch-size',
        '2',
    )
    assert done.returncode == 0, done.stderr
    assert '4 images written' in done.stdout and '4/4' in done.stdout
    model = load_model(config, checkpoint)
    pipeline = build_inference_pipeline(model.cfg)
    for image, (height, width) in zip(images, SIZES):
        relative = image.relative_to(tmp_path / 'photos')
        label = Image.open(out / 'pred' / relative)
        assert label.mode == 'P' and label.size == (width, height)
        assert label.getpalette()[:15] == sum(TOY_SHAPES_PALETTE, [])
        bgr = read_image(image)
        expected = predict_labels(model, pipeline, [bgr])[0]  # one image, no batch
        assert np.array_equal(np.array(label), expected)
        overlay = np.array(Image.open(out / 'vis' / relative))
        assert np.array_equal(overlay, blend(bgr[..., ::-1], expected, TOY_SHAPES_PALETTE))


def test_a_rerun_only_does_the_images_without_outputs(fcn8s, tmp_path, capsys):
    config, checkpoint = fcn8s
    write_images(tmp_path / 'in', SIZES)
    args = [
        str(config),
        str(checkpoint),
        str(tmp_path / 'in'),
        '--out',
        str(tmp_path / 'out'),
        '--device',
        'cpu',
    ]
    infer = load_tool('infer')
    assert infer.main(args) == 0
    (tmp_path / 'out' / 'pred' / 'img_002.png').unlink()
    assert infer.main(args) == 0
    summary = capsys.readouterr().out.splitlines()[-1]
    assert '1 images written' in summary and '3 skipped' in summary
    assert infer.main(args) == 0
    assert '0 images written' in capsys.readouterr().out
    assert infer.main(args + ['--no-skip-existing']) == 0
    assert '4 images written' in capsys.readouterr().out


def test_infer_main_reports_unreadable_images_with_exit_status_1(fcn8s, tmp_path, capsys):
    config, checkpoint = fcn8s
    write_images(tmp_path / 'in', SIZES[:1])
    (tmp_path / 'in' / 'empty.jpg').write_bytes(b'')
    infer = load_tool('infer')
    status = infer.main(
        [
            str(config),
            str(checkpoint),
            str(tmp_path / 'in'),
            '--out',
            str(tmp_path / 'out'),
            '--device',
            'cpu',
            '--batch-mode',
            'pad',
            '--no-skip-existing',
            '--opacity',
            '0.3',
        ]
    )
    captured = capsys.readouterr()
    assert status == 1
    assert '1 images written' in captured.out and '1 failed' in captured.out
    assert 'empty.jpg' in captured.err
    label = np.array(Image.open(tmp_path / 'out' / 'pred' / 'img_000.png'))
    image = read_image(tmp_path / 'in' / 'img_000.png')[..., ::-1]
    overlay = np.array(Image.open(tmp_path / 'out' / 'vis' / 'img_000.png'))
    assert np.array_equal(overlay, blend(image, label, TOY_SHAPES_PALETTE, 0.3))


def test_infer_help_names_every_option(capsys):
    with pytest.raises(SystemExit, match='^0$'):
        load_tool('infer').parse_args(['--help'])

    usage = capsys.readouterr().out
    for option in (
        '--out',
        '--device',
        '--batch-size',
        '--batch-mode',
        '--skip-existing',
        '--no-skip-existing',
        '--opacity',
        '--modality',
    ):
        assert option in usage


def test_modality_folders_are_parsed_by_name_and_a_bad_one_names_the_form(capsys):
    infer = load_tool('infer')
    args = infer.parse_args(
        ['c.py', 'w.pth', 'in', '--modality', 'hha=a/hha', '--modality', 'depth=d']
    )
    assert args.modality_dirs == {'hha': 'a/hha', 'depth': 'd'}
    for bad in (['hha'], ['=x'], ['hha=a', 'hha=b']):
        with pytest.raises(SystemExit, match='^2$'):
            infer.parse_args(['c.py', 'w.pth', 'in', *[f'--modality={b}' for b in bad]])
        assert 'give each modality once as NAME=DIR' in capsys.readouterr().err
