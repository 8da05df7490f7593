"""Measure several segmentors against mmseg's FCN R50-D8 in one run."""

import datetime
import gc
import os
import platform
import statistics
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import mmengine
import mmseg
import torch
import torch.nn as nn

from mmseg_fcn_skip.performance import to_channels_last
from mmseg_fcn_skip.utils.packaged_configs import packaged_config

from .flops import FLOP_CONVENTION
from .measure import (
    SGD_SETTINGS,
    Measurement,
    inference_flops,
    make_inference,
    make_train_step,
    matmul_tflops,
    measure,
    prediction_agreement,
    profile_top_ops,
    training_flops,
)
from .models import (
    DEFAULT_CONFIGS,
    REFERENCE_NAME,
    ModelSpec,
    build_segmentor,
    project_spec,
    random_batch,
    reference_spec,
)

#: Measurement sizes per device type: a full GPU run and a light CPU run.
DEVICE_DEFAULTS = {
    'cuda': dict(shape=(512, 512), batch=8, warmup=10, repeats=30),
    'cpu': dict(shape=(64, 64), batch=2, warmup=1, repeats=3),
}
#: Matrix size and multiplications per timed call of the bf16 matmul rate. On a CPU
#: without bf16 instructions (AVX2 only) a bf16 matmul runs a few hundred times slower:
#: 512 gives the same rate as 1024 with bf16 (0.42 TFLOP/s, AVX-512 EPYC) and keeps
#: the measurement to seconds without.
MATMUL_SIZES = {'cuda': (8192, 20), 'cpu': (512, 8)}
MODES = ('train', 'infer')
#: Seed of the random weights: every round and run measures the same model.
MODEL_SEED = 0
#: Seed of the fixed input of the prediction check (the timed batch uses 0).
CHECK_SEED = 1
FLOPS_METHOD = (
    f'{FLOP_CONVENTION}; counted once per model in fp32 eager mode: '
    'infer = the timed forward; train = forward and backward of the timed '
    'step, counted (not 3x the forward); the SGD update and element-wise '
    'work are not counted'
)


@dataclass
class ModelRun:
    """One round of one model: its measurements per mode and, in the first round,
    its FLOPs per mode, the prediction check and the profile (if asked for)."""

    spec: ModelSpec
    measurements: Dict[str, Measurement]
    flops: Optional[Dict[str, int]]
    agreement: Optional[dict]
    profile: Optional[Dict[str, List[dict]]] = None


@dataclass
class BenchmarkSettings:
    """What to measure and how; see ``tools/analysis_tools/benchmark.py --help``."""

    configs: Tuple[str, ...] = field(default_factory=lambda: default_configs())
    shape: Tuple[int, int] = (512, 512)
    batch: int = 8
    num_classes: int = 21
    precision: str = 'fp32'
    channels_last: bool = False
    compile: bool = False
    device: str = 'cuda'
    warmup: int = 10
    repeats: int = 30
    rounds: int = 1
    host_timer: str = 'wall'
    profile_steps: int = 0

    @property
    def variant(self) -> str:
        """The speed options in use, e.g. ``'bf16 + channels_last'``."""
        options = [self.precision]
        options += ['channels_last'] if self.channels_last else []
        options += ['compile'] if self.compile else []
        return ' + '.join(options)

    @property
    def changes_numerics(self) -> bool:
        """Whether the variant can change predictions compared with fp32 eager."""
        return self.precision != 'fp32' or self.channels_last or self.compile


def default_configs() -> Tuple[str, ...]:
    """The default project configs, as paths of the configs shipped in the package."""
    return tuple(packaged_config(config) for config in DEFAULT_CONFIGS)


def resolve_device(requested: Optional[str]) -> Tuple[torch.device, Optional[str]]:
    """The device to measure on, and a note when CUDA was wanted but is missing.

    ``None`` means CUDA if available, else CPU. A CUDA device on a machine
    without CUDA falls back to the CPU instead of failing.
    """
    if requested is None:
        requested = 'cuda' if torch.cuda.is_available() else 'cpu'
    device = torch.device(requested)
    if device.type == 'cuda' and not torch.cuda.is_available():
        return torch.device('cpu'), (
            f'CUDA is not available on this machine (torch {torch.__version__}); '
            f'running the small CPU measurement instead of --device {requested}.'
        )
    if device.type not in DEVICE_DEFAULTS:
        raise ValueError(f'device {requested!r} is not supported; use cuda[:N] or cpu')
    return device, None


def fill_device_defaults(
    settings: BenchmarkSettings, given: Dict[str, object]
) -> BenchmarkSettings:
    """Settings with the device's default sizes wherever ``given`` has None."""
    defaults = DEVICE_DEFAULTS[torch.device(settings.device).type]
    chosen = {
        key: given.get(key) if given.get(key) is not None else value
        for key, value in defaults.items()
    }
    chosen['shape'] = tuple(chosen['shape'])
    return replace(settings, **chosen)


def run_benchmark(settings: BenchmarkSettings, log: Callable[[str], None] = print) -> dict:
    """Measure the reference and every config; return the report (JSON-ready).

    With several rounds, every model is measured once per round, in turn, so that
    a slow drift of the machine's speed (other load, clocks) affects all models
    alike; each ratio is the median of the per-round ratios.

    Returns:
        A dict with ``settings``, ``environment``, ``matmul_bf16_tflops``,
        ``flops_method``, ``reference``, ``results`` (one entry per model and
        mode, with its ratio against the reference), ``agreement`` (one entry
        per model when the variant can change predictions, else empty) and
        ``profile`` (the top operators per model and mode, if asked for).
    """
    device = torch.device(settings.device)
    if device.type == 'cuda':
        torch.backends.cudnn.benchmark = True
    log(f'Measuring the dense bf16 matmul rate on {device_name(device)} ...')
    matmul_rate = matmul_tflops(device, *MATMUL_SIZES[device.type], host_timer=settings.host_timer)
    specs = model_specs(settings)
    runs: Dict[str, List[ModelRun]] = {spec.name: [] for spec in specs}
    for round_index in range(settings.rounds):
        for spec in specs:
            log(f'Round {round_index + 1}/{settings.rounds}: {spec.name} ({settings.variant}) ...')
            runs[spec.name].append(
                measure_model(spec, settings, device, first_round=round_index == 0)
            )
            free_memory(device)
    results = [
        result_entry(model_runs, mode, settings.batch, matmul_rate)
        for model_runs in runs.values()
        for mode in MODES
    ]
    add_ratios(results, REFERENCE_NAME)
    return dict(
        settings=dict(
            asdict(settings),
            shape=list(settings.shape),
            configs=list(settings.configs),
            variant=settings.variant,
        ),
        environment=environment(device, settings.host_timer),
        matmul_bf16_tflops=matmul_rate,
        flops_method=FLOPS_METHOD,
        reference=REFERENCE_NAME,
        results=results,
        agreement=[
            model_runs[0].agreement
            for model_runs in runs.values()
            if model_runs[0].agreement is not None
        ],
        profile={
            name: model_runs[0].profile
            for name, model_runs in runs.items()
            if model_runs[0].profile is not None
        },
    )


def model_specs(settings: BenchmarkSettings) -> List[ModelSpec]:
    """The reference, then one spec per config; names must be distinct."""
    specs = [reference_spec(settings.num_classes)] + [
        project_spec(config, settings.num_classes) for config in settings.configs
    ]
    names = [spec.name for spec in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(
            f'configs named {duplicates} are given more than once (or '
            'share a name); use --rounds to measure them repeatedly'
        )
    return specs


def measure_model(
    spec: ModelSpec, settings: BenchmarkSettings, device: torch.device, first_round: bool = True
) -> ModelRun:
    """Time a training step and an inference forward of one model.

    The weights are drawn from ``MODEL_SEED``. FLOPs are counted, predictions
    checked (if the variant can change them) and the steps profiled (if asked
    for) in the first round only.
    """
    torch.manual_seed(MODEL_SEED)
    model = build_segmentor(spec, device)
    inputs, samples = random_batch(settings.batch, settings.shape, settings.num_classes, device)
    if settings.channels_last:
        to_channels_last(model)
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    flops = None
    if first_round:
        flops = dict(
            train=training_flops(model, inputs, samples),
            infer=inference_flops(model, inputs, samples),
        )
    loss_fn, encode_decode = model.loss, model.encode_decode
    if settings.compile:
        loss_fn, encode_decode = torch.compile(loss_fn), torch.compile(encode_decode)
    optimizer = torch.optim.SGD(model.parameters(), **SGD_SETTINGS)
    calls = dict(
        train=make_train_step(
            model, loss_fn, optimizer, inputs, samples, device, settings.precision
        ),
        infer=make_inference(encode_decode, inputs, samples, device, settings.precision),
    )
    measurements, profile = {}, {}
    for mode in MODES:
        model.train(mode == 'train')
        measurements[mode] = measure(
            calls[mode], device, settings.warmup, settings.repeats, settings.host_timer
        )
        if first_round and settings.profile_steps:
            profile[mode] = profile_top_ops(calls[mode], device, settings.profile_steps)
    del calls, optimizer
    agreement = None
    if first_round and settings.changes_numerics:
        agreement = dict(
            model=spec.name,
            variant=settings.variant,
            **check_predictions(model, encode_decode, settings, device),
        )
    return ModelRun(spec, measurements, flops, agreement, profile or None)


def check_predictions(
    model: nn.Module,
    encode_decode: Callable[..., torch.Tensor],
    settings: BenchmarkSettings,
    device: torch.device,
) -> dict:
    """Predictions of the measured variant against fp32 eager on a fixed input."""
    inputs, samples = random_batch(
        settings.batch, settings.shape, settings.num_classes, device, seed=CHECK_SEED
    )
    reference = make_inference(model.encode_decode, inputs, samples, device, 'fp32')()
    if settings.channels_last:
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    candidate = make_inference(encode_decode, inputs, samples, device, settings.precision)()
    return prediction_agreement(reference, candidate)


def result_entry(runs: List[ModelRun], mode: str, batch: int, matmul_rate: float) -> dict:
    """The JSON entry of one model in one mode, over all rounds.

    ``img_per_s`` and the FLOP rates use the median step time over all rounds;
    ``round_img_per_s`` has each round's own figure; the peak memory is the
    largest of the rounds.
    """
    measurements = [run.measurements[mode] for run in runs]
    seconds = [value for measurement in measurements for value in measurement.seconds]
    median = statistics.median(seconds)
    flops = runs[0].flops[mode]
    tflops = flops / median / 1e12
    peaks = [measurement.peak_bytes for measurement in measurements]
    return dict(
        model=runs[0].spec.name,
        source=runs[0].spec.source,
        mode=mode,
        img_per_s=batch / median,
        round_img_per_s=[batch / measurement.median for measurement in measurements],
        median_ms=median * 1e3,
        step_ms=[value * 1e3 for value in seconds],
        peak_gib=None if None in peaks else max(peaks) / 2**30,
        gflop_per_img=flops / batch / 1e9,
        tflops=tflops,
        matmul_fraction=tflops / matmul_rate,
    )


def add_ratios(results: List[dict], reference: str) -> None:
    """Add ``ratio_vs_reference``: the median over rounds of img/s over the
    reference's img/s in the same mode and round."""
    reference_rates = {r['mode']: r['round_img_per_s'] for r in results if r['model'] == reference}
    for result in results:
        ratios = [
            rate / reference_rate
            for rate, reference_rate in zip(
                result['round_img_per_s'], reference_rates[result['mode']]
            )
        ]
        result['ratio_vs_reference'] = statistics.median(ratios)


def free_memory(device: torch.device) -> None:
    """Free what the last measured model left (compiled graphs, cached blocks)."""
    gc.collect()
    torch._dynamo.reset()
    if device.type == 'cuda':
        torch.cuda.empty_cache()


def device_name(device: torch.device) -> str:
    """A readable name of the device (the GPU, or the CPU model)."""
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    return cpu_model() or platform.machine() or 'CPU'


def cpu_model() -> Optional[str]:
    """The CPU model name from /proc/cpuinfo, where there is one."""
    try:
        lines = Path('/proc/cpuinfo').read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith('model name'):
            return line.split(':', 1)[1].strip()
    return None


def environment(device: torch.device, host_timer: str = 'wall') -> dict:
    """Versions, device, timer and (on CPU) the machine's load of this run."""
    return dict(
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        device=str(device),
        device_name=device_name(device),
        cpu_threads=torch.get_num_threads(),
        torch=torch.__version__,
        cuda=torch.version.cuda,
        cudnn_benchmark=torch.backends.cudnn.benchmark,
        mmseg=mmseg.__version__,
        mmengine=mmengine.__version__,
        python=platform.python_version(),
        timer=timer_name(device, host_timer),
        load_average=list(os.getloadavg()) if hasattr(os, 'getloadavg') else None,
    )


def timer_name(device: torch.device, host_timer: str) -> str:
    """How the steps were timed, in words."""
    if device.type == 'cuda':
        return 'CUDA events'
    if host_timer == 'process':
        return 'time.process_time: CPU time of this process'
    return 'time.perf_counter: wall clock'
