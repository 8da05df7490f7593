"""tools/analysis_tools/benchmark.py and its analysis_lib.benchmark: a real CPU run, FLOP counts,
report pieces and the numerics of the speed options."""

import json
import math
import runpy
import sys

import pytest
import torch
from analysis_lib.benchmark import (
    REFERENCE_NAME,
    build_segmentor,
    count_flops,
    inference_flops,
    measure,
    prediction_agreement,
    project_spec,
    random_batch,
    reference_spec,
    strip_pretrained,
    training_flops,
)
from analysis_lib.benchmark.measure import (
    HOST_TIMERS,
    Measurement,
    make_inference,
    matmul_tflops,
    profile_top_ops,
)
from analysis_lib.benchmark.models import ModelSpec, config_name
from analysis_lib.benchmark.report import (
    COLUMNS,
    format_agreement,
    format_report,
    format_table,
    write_json,
)
from analysis_lib.benchmark.runner import (
    BenchmarkSettings,
    ModelRun,
    add_ratios,
    environment,
    fill_device_defaults,
    model_specs,
    resolve_device,
    result_entry,
)
from mmseg.registry import MODELS

from mmseg_fcn_skip.models.utils import Upsample
from tests.helpers import REPO
from tests.helpers.processes import run_tool

SAME = str(REPO / 'configs' / 'fcn8s_voc.py')
CAFFE = str(REPO / 'configs' / 'fcn_skip_caffe' / 'fcn8s_vgg16-caffe_4xb4-40k_voc12aug-512x512.py')
#: Forward GFLOP of one 512x512 image measured on an H100 run (shared anchors).
ANCHOR_GFLOP = dict(same=222, caffe=381)
CPU = torch.device('cpu')
RESULT_FIELDS = {
    'model',
    'source',
    'mode',
    'img_per_s',
    'round_img_per_s',
    'median_ms',
    'step_ms',
    'peak_gib',
    'gflop_per_img',
    'tflops',
    'matmul_fraction',
    'ratio_vs_reference',
}


def light_spec(pad_mode: str = 'same') -> ModelSpec:
    """FCN-8s of configs/fcn8s_voc.py at 1/8 of the width, fc6/fc7 with 64."""
    spec = project_spec(SAME if pad_mode == 'same' else CAFFE, num_classes=21)
    spec.model_cfg['backbone'].update(base_channels=8, fc_channels=64)
    spec.model_cfg['decode_head']['in_channels'] = (32, 64, 64)
    return spec


def test_cpu_run_writes_a_report_with_positive_figures(tmp_path, monkeypatch, capsys):
    out = tmp_path / 'report.json'
    monkeypatch.setattr(
        sys,
        'argv',
        [
            'benchmark.py',
            '--device',
            'cpu',
            '--configs',
            SAME,
            '--shape',
            '32',
            '32',
            '--batch',
            '1',
            '--warmup',
            '0',
            '--repeats',
            '2',
            '--channels-last',
            '--timer',
            'process',
            '--json',
            str(out),
        ],
    )
    runpy.run_path(str(REPO / 'tools' / 'analysis_tools' / 'benchmark.py'), run_name='__main__')
    stdout = capsys.readouterr().out
    assert 'CPU mode' in stdout
    assert all(column in stdout for column in COLUMNS)
    report = json.loads(out.read_text())
    assert report['environment']['device'] == 'cpu'
    assert report['environment']['timer'].startswith('time.process_time')
    assert report['settings']['shape'] == [32, 32] and report['settings']['batch'] == 1
    assert report['matmul_bf16_tflops'] > 0
    results = report['results']
    assert [(r['model'], r['mode']) for r in results] == [
        (REFERENCE_NAME, 'train'),
        (REFERENCE_NAME, 'infer'),
        ('fcn8s_voc', 'train'),
        ('fcn8s_voc', 'infer'),
    ]
    for result in results:
        assert set(result) == RESULT_FIELDS
        assert len(result['step_ms']) == 2
        for key in (
            'img_per_s',
            'median_ms',
            'gflop_per_img',
            'tflops',
            'matmul_fraction',
            'ratio_vs_reference',
        ):
            assert result[key] > 0, (result['model'], result['mode'], key)
        assert result['peak_gib'] is None  # no peak memory on CPU
    assert {r['ratio_vs_reference'] for r in results[:2]} == {1.0}
    train, infer = results[2:]
    assert 2 * infer['gflop_per_img'] < train['gflop_per_img'] < 3 * infer['gflop_per_img']
    assert [a['model'] for a in report['agreement']] == [REFERENCE_NAME, 'fcn8s_voc']
    # channels_last in fp32 only reorders sums: logits within fp32 rounding (see
    # FP32_REORDER_BOUND), whatever the pixel agreement of near-tied classes.
    for entry in report['agreement']:
        assert 0 <= entry['relative_max_abs_diff'] <= FP32_REORDER_BOUND, entry
        assert 0 < entry['pixel_agreement'] <= 1, entry


@pytest.fixture(scope='module')
def forward_gflop_512():
    """Forward GFLOP of one 512x512 image, full VGG16, counted on the meta device."""
    inputs = torch.empty(1, 3, 512, 512, device='meta')
    metas = [dict(img_shape=(512, 512), ori_shape=(512, 512), pad_shape=(512, 512))]
    gflop = {}
    for mode, config in (('same', SAME), ('caffe', CAFFE)):
        with torch.device('meta'):
            model = MODELS.build(project_spec(config, 21).model_cfg).eval()
        with torch.no_grad():
            gflop[mode] = count_flops(lambda m=model: m.encode_decode(inputs, metas)) / 1e9
    return gflop


@pytest.mark.parametrize('mode', ['same', 'caffe'])
def test_forward_flops_at_512_match_the_anchors(forward_gflop_512, mode):
    # Counted here: 221.7 (same) and 379.5 (caffe) GFLOP.
    assert forward_gflop_512[mode] == pytest.approx(ANCHOR_GFLOP[mode], rel=0.01)


def test_caffe_padding_costs_1_7x_the_arithmetic(forward_gflop_512):
    ratio = forward_gflop_512['caffe'] / forward_gflop_512['same']
    assert ratio == pytest.approx(ANCHOR_GFLOP['caffe'] / ANCHOR_GFLOP['same'], rel=0.02)
    assert 1.68 < ratio < 1.74


def test_training_flops_are_forward_plus_a_smaller_backward():
    model = build_segmentor(light_spec(), CPU)
    inputs, samples = random_batch(2, (64, 64), 21, CPU)
    forward = inference_flops(model, inputs, samples)
    train = training_flops(model, inputs, samples)
    # conv1_1 needs no input gradient and the fixed upsampling no weight gradient.
    assert 2 * forward < train < 3 * forward
    assert all(p.grad is None for p in model.parameters())


def rounding_layers(model: torch.nn.Module) -> int:
    """Layers that round their inputs and weights under bf16 autocast: the convs and
    the upsampling (transposed convs) one after another on the way to the logits."""
    return sum(isinstance(m, (torch.nn.Conv2d, Upsample)) for m in model.modules())


def bf16_logit_bound(layers: int) -> float:
    """Largest bf16-vs-fp32 logit difference, relative to the logits' spread.

    bf16 keeps 8 significand bits: rounding an input or a weight changes it by at most
    ``u = 2 ** -8`` relatively; every layer rounds both and accumulates in fp32, so it
    adds up to ``2 * u`` of its output's scale. Independent errors of ``layers``
    layers in sequence add like a random walk: ``2 * u * sqrt(layers)``.
    """
    return 2 * 2.0**-8 * math.sqrt(layers)


def decisive_pixels(logits: torch.Tensor, margin: float) -> torch.Tensor:
    """``(N, H, W)`` mask of the pixels whose two best classes are more than
    ``margin`` apart: no change of the logits by less than ``margin / 2`` flips them."""
    best = logits.float().topk(2, dim=1).values
    return best[:, 0] - best[:, 1] > margin


def test_bf16_autocast_predicts_as_fp32():
    """bf16 runs every conv, within bf16's precision of fp32, and changes the class
    only of pixels whose classes fp32 itself nearly ties.

    The argmax agreement of all pixels is not checked: a randomly initialised net
    has near-tied classes at some pixels, and how many of those flip depends on the
    CPU's bf16 kernels (98.9% to 99.1% of the pixels on two x86-64 CPUs).
    """
    model = build_segmentor(light_spec(), CPU).eval()
    inputs, samples = random_batch(2, (128, 128), 21, CPU, seed=1)
    seen = set()
    hooks = [
        m.register_forward_hook(lambda m, args, out: seen.add(out.dtype))
        for m in model.modules()
        if isinstance(m, (torch.nn.Conv2d, Upsample))
    ]
    fp32 = make_inference(model.encode_decode, inputs, samples, CPU, 'fp32')()
    assert seen == {torch.float32}
    seen.clear()
    bf16 = make_inference(model.encode_decode, inputs, samples, CPU, 'bf16')()
    for hook in hooks:
        hook.remove()
    # Every conv and upsampling layer computed in bf16, and so did the logits.
    assert seen == {torch.bfloat16} and bf16.dtype == torch.bfloat16
    bound = bf16_logit_bound(rounding_layers(model))  # 21 layers: 0.036
    spread = (fp32.max() - fp32.min()).item()
    agreement = prediction_agreement(fp32, bf16)
    # Within bf16's precision, and further off than rounding the fp32 logits to bf16
    # (at most u = 2 ** -8 of their largest magnitude) would be: bf16 ran inside.
    output_rounding = 2.0**-8 * fp32.abs().max().item()
    assert output_rounding < agreement['max_abs_diff']
    assert agreement['relative_max_abs_diff'] <= bound
    # Pixels whose fp32 classes are further apart than twice the bound keep them.
    decisive = decisive_pixels(fp32, 2 * bound * spread)
    assert decisive.float().mean() > 0.3  # 32% of this net's pixels
    assert torch.equal(fp32.argmax(1)[decisive], bf16.float().argmax(1)[decisive])


#: Largest fp32 logit difference relative to the spread when only the order of the
#: sums changes (another memory format, fused or compiled kernels): fp32's 2 ** -24
#: per addition over sums of up to 7 * 7 * 64 terms (fc6) stays below 2 ** -13.
FP32_REORDER_BOUND = 1e-4


def test_compiled_inference_predicts_as_eager():
    model = build_segmentor(light_spec(), CPU).eval()
    inputs, samples = random_batch(2, (64, 64), 21, CPU, seed=1)
    eager = make_inference(model.encode_decode, inputs, samples, CPU, 'fp32')()
    compiled = make_inference(torch.compile(model.encode_decode), inputs, samples, CPU, 'fp32')()
    agreement = prediction_agreement(eager, compiled)
    assert agreement['relative_max_abs_diff'] <= FP32_REORDER_BOUND
    spread = (eager.max() - eager.min()).item()
    decisive = decisive_pixels(eager, 2 * FP32_REORDER_BOUND * spread)
    assert decisive.float().mean() > 0.9
    assert torch.equal(eager.argmax(1)[decisive], compiled.argmax(1)[decisive])


def test_reference_is_mmseg_fcn_r50_d8_with_bn_and_no_checkpoint():
    spec = reference_spec(21)
    cfg = spec.model_cfg
    assert spec.name == REFERENCE_NAME and spec.source.endswith('fcn_r50-d8.py')
    assert cfg['backbone']['type'] == 'ResNetV1c' and cfg['backbone']['depth'] == 50
    assert cfg['backbone']['dilations'] == (1, 1, 2, 4)
    assert cfg['pretrained'] is None
    for key in ('backbone', 'decode_head', 'auxiliary_head'):
        assert cfg[key]['norm_cfg'] == dict(type='BN', requires_grad=True)
    assert cfg['decode_head']['type'] == cfg['auxiliary_head']['type'] == 'FCNHead'
    assert cfg['decode_head']['num_classes'] == cfg['auxiliary_head']['num_classes'] == 21


def test_project_configs_lose_their_pretrained_checkpoints():
    for config in (SAME, CAFFE):
        cfg = project_spec(config, 21).model_cfg
        assert cfg['backbone']['init_cfg'] is None
        assert cfg['decode_head']['num_classes'] == 21


def test_strip_pretrained_walks_nested_configs():
    pretrained = dict(type='Pretrained', checkpoint='x.pth')
    kaiming = dict(type='Kaiming', layer='Conv2d')
    cfg = dict(
        pretrained='open-mmlab://resnet50_v1c',
        backbone=dict(init_cfg=pretrained),
        heads=[dict(init_cfg=[kaiming, pretrained]), dict(init_cfg=[pretrained])],
    )
    assert strip_pretrained(cfg) == dict(
        pretrained=None,
        backbone=dict(init_cfg=None),
        heads=[dict(init_cfg=[kaiming]), dict(init_cfg=None)],
    )


def test_config_names_are_relative_to_the_configs_folder():
    assert config_name(SAME) == 'fcn8s_voc'
    assert config_name(CAFFE) == 'fcn_skip_caffe/fcn8s_vgg16-caffe_4xb4-40k_voc12aug-512x512'
    assert config_name('/tmp/other.py') == 'other'


@pytest.mark.parametrize('host_timer', ['wall', 'process'])
def test_measure_times_each_repeat_after_the_warmup(host_timer):
    calls = []

    def work() -> None:
        calls.append(sum(range(200_000)))

    result = measure(work, CPU, warmup=2, repeats=3, host_timer=host_timer)
    assert len(calls) == 5 and len(result.seconds) == 3
    assert result.peak_bytes is None and result.median > 0


def test_measure_reports_the_clock_difference_over_each_timed_call(monkeypatch):
    """A clock that advances 0.25 s per reading: each timed call reads it before and
    after, so each repeat takes 0.25 s; the warmup calls are not timed."""
    ticks = iter(range(100))
    monkeypatch.setitem(HOST_TIMERS, 'wall', lambda: 1000 + 0.25 * next(ticks))

    calls = []
    result = measure(lambda: calls.append(1), CPU, warmup=3, repeats=4)
    assert len(calls) == 7
    assert result.seconds == [0.25] * 4 and result.median == 0.25


def test_measure_refuses_unknown_clocks_and_empty_runs():

    with pytest.raises(ValueError, match='host_timer'):
        measure(lambda: None, CPU, warmup=0, repeats=1, host_timer='gpu')
    with pytest.raises(ValueError, match='repeats'):
        measure(lambda: None, CPU, warmup=0, repeats=0)


def test_the_report_names_the_clock_and_the_load():
    env = environment(CPU, 'process')
    assert env['timer'].startswith('time.process_time')
    assert len(env['load_average']) == 3
    assert environment(CPU)['timer'].startswith('time.perf_counter')


def test_profile_ranks_the_costliest_operators():
    a, b = torch.randn(256, 256), torch.randn(256, 256)

    def work() -> None:
        for _ in range(4):
            torch.mm(a, b)
        torch.add(a, b)

    ops = profile_top_ops(work, CPU, steps=2, top=3)
    assert len(ops) == 3 and ops[0]['op'] == 'aten::mm'
    assert [op['ms_per_step'] for op in ops] == sorted(
        (op['ms_per_step'] for op in ops), reverse=True
    )
    assert ops[0]['ms_per_step'] > 0 and 0 < sum(op['share'] for op in ops) <= 1 + 1e-9


class _Profile:
    """``torch.profiler.profile`` with fixed self CPU times (microseconds)."""

    def __init__(self, activities):
        self.events = [
            type('Event', (), dict(key=op, self_cpu_time_total=us))
            for op, us in [('aten::add', 1000), ('aten::mm', 3000)]
        ]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def key_averages(self):
        return self.events


def test_profile_gives_milliseconds_per_step_and_shares(monkeypatch):
    """3 ms of matmuls and 1 ms of additions over 2 steps: 1.5 and 0.5 ms per step."""
    monkeypatch.setattr(torch.profiler, 'profile', _Profile)
    ops = profile_top_ops(lambda: None, CPU, steps=2)
    assert ops == [
        dict(op='aten::mm', ms_per_step=1.5, share=0.75),
        dict(op='aten::add', ms_per_step=0.5, share=0.25),
    ]


def test_matmul_rate_counts_two_flops_per_multiply_add(monkeypatch):
    """A 10x10 by 10x10 product is 1,000 multiply-adds; 50 of them per timed call, a
    call taking 0.25 s on a clock that advances 0.25 s per reading: 4e-7 TFLOP/s."""
    ticks = iter(range(100))
    monkeypatch.setitem(HOST_TIMERS, 'wall', lambda: 1000 + 0.25 * next(ticks))
    assert matmul_tflops(CPU, size=10, iterations=50) == 2 * 1000 * 50 / 0.25 / 1e12 == 4e-7


def test_the_json_report_is_indented_by_two_and_ends_with_a_newline(tmp_path):
    path = write_json(
        dict(results=[dict(model='fcn8s_voc', tflops=0.5)]), tmp_path / 'a' / 'r.json'
    )
    assert path.read_text() == (
        '{\n  "results": [\n    {\n      "model": "fcn8s_voc",\n      "tflops": 0.5\n'
        '    }\n  ]\n}\n'
    )


def test_report_lists_the_profile_after_the_table():
    result = dict(
        model='fcn8s_voc',
        mode='train',
        img_per_s=1.0,
        ratio_vs_reference=1.0,
        peak_gib=None,
        tflops=0.1,
        matmul_fraction=0.01,
    )
    report = dict(
        settings=dict(
            shape=[64, 64], batch=2, num_classes=21, variant='fp32', warmup=1, rounds=1, repeats=3
        ),
        environment=dict(
            device_name='CPU',
            device='cpu',
            cpu_threads=2,
            torch='2.13.0',
            date='today',
            timer='wall',
        ),
        matmul_bf16_tflops=0.7,
        flops_method='counted',
        results=[result],
        agreement=[],
        profile={'fcn8s_voc': {'train': [dict(op='aten::mm', ms_per_step=12.5, share=0.625)]}},
    )
    lines = format_report(report).splitlines()
    assert lines[-2] == 'fcn8s_voc, train: costliest operators (ms per call, share)'
    assert lines[-1].split() == ['12.50', '62.5%', 'aten::mm']


def test_prediction_agreement_counts_pixels_and_scales_the_difference():
    reference = torch.zeros(1, 2, 2, 2)
    reference[0, 0] = torch.tensor([[4.0, 4.0], [4.0, -4.0]])
    candidate = reference.clone()
    candidate[0, 1, 0, 0] = 5.0  # flips one pixel of four to class 1
    result = prediction_agreement(reference, candidate)
    assert result == dict(pixel_agreement=0.75, max_abs_diff=5.0, relative_max_abs_diff=5.0 / 8.0)


def test_ratios_are_against_the_reference_in_the_same_mode_and_round():
    rates = {
        (REFERENCE_NAME, 'train'): [10.0, 5.0, 8.0],
        (REFERENCE_NAME, 'infer'): [40.0, 20.0, 4.0],
        ('fcn8s_voc', 'train'): [32.0, 16.0, 8.0],
        ('fcn8s_voc', 'infer'): [66.0, 33.0, 40.0],
    }
    results = [
        dict(model=model, mode=mode, round_img_per_s=values)
        for (model, mode), values in rates.items()
    ]
    add_ratios(results, REFERENCE_NAME)
    # Per round: train 3.2, 3.2, 1.0; infer 1.65, 1.65, 10.0; the median of each.
    assert [r['ratio_vs_reference'] for r in results] == [1.0, 1.0, 3.2, 1.65]


def test_results_pool_the_rounds():
    spec = ModelSpec('fcn8s_voc', 'configs/fcn8s_voc.py', {})
    runs = [
        ModelRun(
            spec, dict(train=Measurement([0.1, 0.3, 0.2], 2**30)), dict(train=8 * 10**11), None
        ),
        ModelRun(spec, dict(train=Measurement([0.4, 0.5, 0.6], 2**31)), None, None),
    ]
    entry = result_entry(runs, 'train', batch=8, matmul_rate=100.0)
    assert entry['median_ms'] == pytest.approx(350.0)  # of all six steps
    assert entry['img_per_s'] == pytest.approx(8 / 0.35)
    assert entry['round_img_per_s'] == pytest.approx([40.0, 16.0])
    assert entry['peak_gib'] == 2.0
    assert entry['gflop_per_img'] == 100.0
    assert entry['tflops'] == pytest.approx(0.8 / 0.35)
    assert entry['matmul_fraction'] == pytest.approx(0.8 / 0.35 / 100)


def test_a_config_given_twice_is_refused():
    with pytest.raises(ValueError, match='--rounds'):
        model_specs(BenchmarkSettings(configs=(SAME, SAME)))


def test_table_has_a_row_per_model_and_mode():
    result = dict(
        model='fcn8s_voc',
        mode='train',
        img_per_s=383.4,
        ratio_vs_reference=2.56,
        peak_gib=3.9,
        tflops=255.0,
        matmul_fraction=0.319,
    )
    table = format_table(
        dict(results=[result, dict(result, mode='infer', peak_gib=None)])
    ).splitlines()
    assert table[0].split() == [
        'model',
        'mode',
        'img/s',
        'vs',
        'R50-D8',
        'peak',
        'GiB',
        'TFLOP/s',
        '%',
        'bf16',
        'mm',
    ]
    assert table[2].split() == ['fcn8s_voc', 'train', '383.4', '2.56x', '3.90', '255.00', '31.9']
    assert table[3].split()[4] == '-'


def test_a_missing_gpu_falls_back_to_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    device, note = resolve_device('cuda')
    assert device == CPU and 'CUDA is not available' in note
    assert resolve_device(None) == (CPU, None)


def test_cpu_runs_are_small_unless_sizes_are_given():
    settings = fill_device_defaults(BenchmarkSettings(device='cpu'), dict(batch=None))
    assert (settings.shape, settings.batch, settings.repeats) == ((64, 64), 2, 3)
    settings = fill_device_defaults(
        BenchmarkSettings(device='cuda'), dict(shape=[256, 320], repeats=5)
    )
    assert (settings.shape, settings.batch, settings.repeats) == ((256, 320), 8, 5)


def test_settings_built_in_python_default_to_the_reference_run():
    settings = BenchmarkSettings()
    assert (settings.shape, settings.batch, settings.num_classes, settings.precision) == (
        (512, 512),
        8,
        21,
        'fp32',
    )


def test_gpu_runs_default_to_the_documented_reference_sizes():
    # docs/performance.md: batch 8, 512x512, 10 warm-up and 30 timed iterations
    settings = fill_device_defaults(BenchmarkSettings(device='cuda'), {})
    assert (settings.shape, settings.batch, settings.warmup, settings.repeats) == (
        (512, 512),
        8,
        10,
        30,
    )
    settings = fill_device_defaults(BenchmarkSettings(device='cpu'), {})
    assert (settings.shape, settings.batch, settings.warmup) == ((64, 64), 2, 1)


def test_variant_names_the_speed_options():
    settings = BenchmarkSettings(precision='bf16', channels_last=True, compile=True)
    assert settings.variant == 'bf16 + channels_last + compile'
    assert settings.changes_numerics
    assert not BenchmarkSettings().changes_numerics


def test_the_command_runs_in_a_fresh_process():
    # the tool sets mmseg's default scope itself (the data preprocessor is found by it)
    result = run_tool(
        'analysis_tools/benchmark',
        *('--configs', 'configs/fcn8s_toy.py', '--device', 'cpu', '--warmup', '0'),
        *('--repeats', '1', '--shape', '32', '32', '--batch', '1'),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'batch 1, 32x32, 21 classes, fp32, warmup 0' in result.stdout
    rows = [line.split()[:2] for line in result.stdout.splitlines() if line.startswith('fcn8s_toy')]
    assert rows == [['fcn8s_toy', 'train'], ['fcn8s_toy', 'infer']]


def test_agreement_lines_give_percentages_of_pixels_and_of_the_logit_range():
    report = dict(
        agreement=[
            dict(
                model='fcn8s_voc',
                variant='bf16',
                pixel_agreement=0.98765,
                max_abs_diff=0.012345,
                relative_max_abs_diff=0.0031,
            )
        ]
    )
    assert format_agreement(report) == [
        'fcn8s_voc: bf16 vs fp32 eager on a fixed input: 98.77% of pixels agree, '
        'max |logit diff| 0.0123 (0.31% of the logit range)'
    ]
