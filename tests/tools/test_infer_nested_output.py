"""tools/infer.py with its output folder inside its input folder, run twice: the
outputs of the first run are never read back as inputs, however the two folders
are written (absolute, relative, a glob), and also when the second run writes to
another folder."""

from pathlib import Path

import pytest

from tests.helpers.images import write_images
from tests.helpers.light_models import light_checkpoint
from tests.helpers.processes import load_tool

SIZES = [(33, 41), (40, 40)]
EXPECTED = ['pred/day2/img_000.png', 'pred/img_000.png', 'vis/day2/img_000.png', 'vis/img_000.png']


@pytest.fixture(scope='module')
def fcn8s(tmp_path_factory):
    return light_checkpoint(tmp_path_factory.mktemp('fcn8s_nested'))


@pytest.fixture
def photos(tmp_path, monkeypatch):
    """Two images, one in a subfolder; the current folder is their parent."""
    write_images(tmp_path / 'photos', SIZES[:1])
    write_images(tmp_path / 'photos' / 'day2', SIZES[1:])
    monkeypatch.chdir(tmp_path)
    return tmp_path


def outputs(folder: Path):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob('*.png'))


def run(fcn8s, source, out, capsys, *options):
    config, checkpoint = fcn8s
    status = load_tool('infer').main(
        [str(config), str(checkpoint), source, '--out', out, '--device', 'cpu', *options]
    )
    assert status == 0
    return capsys.readouterr().out.splitlines()[-1]


@pytest.mark.parametrize(
    'source,out',
    [
        ('{root}/photos', '{root}/photos/out'),
        ('photos', '{root}/photos/predictions/run1'),
        ('photos/**/*.png', 'photos/out'),
    ],
)
def test_a_second_run_into_the_same_folder_sees_only_the_images(fcn8s, photos, capsys, source, out):
    source, out = source.format(root=photos), out.format(root=photos)
    assert run(fcn8s, source, out, capsys).startswith('2 images written to')
    assert outputs(photos / out) == EXPECTED
    # Both images done: nothing to do, and none of the four outputs taken as input.
    assert run(fcn8s, source, out, capsys).startswith('0 images written to')
    assert outputs(photos / out) == EXPECTED


def test_a_second_run_into_another_folder_skips_the_first_runs_outputs(fcn8s, photos, capsys):
    assert run(fcn8s, 'photos', 'photos/out', capsys).startswith('2 images written')
    summary = run(fcn8s, str(photos / 'photos'), 'photos/out2', capsys, '--no-skip-existing')
    assert summary.startswith('2 images written') and '0 failed' in summary
    assert outputs(photos / 'photos' / 'out2') == EXPECTED
    assert outputs(photos / 'photos' / 'out') == EXPECTED


def test_an_output_folder_named_as_the_input_is_still_read(fcn8s, photos, capsys):
    """Images inside an output folder are inputs when that folder is the input."""
    run(fcn8s, 'photos', 'photos/out', capsys)
    summary = run(fcn8s, 'photos/out/vis', 'relabelled', capsys)
    assert summary.startswith('2 images written')
    assert outputs(photos / 'relabelled') == EXPECTED


@pytest.mark.parametrize(
    'source,out',
    [
        ('{root}/photos', '{root}/photos/out'),
        ('photos', '{root}/photos/out'),
        ('{root}/photos', 'photos/out'),
    ],
)
def test_an_existing_output_folder_inside_the_input_is_left_out(fcn8s, photos, capsys, source, out):
    """--out names a folder that already holds images (of an older version, without
    the marker): they are not inputs, however the two paths are written."""
    write_images(photos / 'photos' / 'out' / 'pred', SIZES[:1])
    source, out = source.format(root=photos), out.format(root=photos)
    assert run(fcn8s, source, out, capsys).startswith('2 images written to')
    assert outputs(photos / 'photos' / 'out') == EXPECTED
