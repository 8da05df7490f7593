"""Timing, memory, FLOP and numerics measurements of one segmentor."""

import statistics
import time
from dataclasses import dataclass
from typing import Callable, ContextManager, Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmseg.structures import SegDataSample

from .flops import count_flops

PRECISIONS = ('fp32', 'bf16')
#: Clocks for CPU runs: wall-clock time, or the CPU time of this process (all its
#: threads), which other processes on a shared machine disturb much less.
HOST_TIMERS = {'wall': time.perf_counter, 'process': time.process_time}
#: Learning rate, momentum and weight decay of the timed SGD step (the recipe of
#: configs/fcn8s_voc.py; the values do not change the time of a step).
SGD_SETTINGS = dict(lr=1e-3, momentum=0.9, weight_decay=5e-4)


@dataclass
class Measurement:
    """Wall-clock seconds of each timed call and the peak memory while timing."""

    seconds: List[float]
    peak_bytes: Optional[int]

    @property
    def median(self) -> float:
        """Median seconds per call."""
        return statistics.median(self.seconds)


def autocast(device: torch.device, precision: str) -> ContextManager:
    """Autocast to bfloat16 for ``'bf16'``; a disabled autocast for ``'fp32'``."""
    if precision not in PRECISIONS:
        raise ValueError(f'precision={precision!r} is not supported; use one of {PRECISIONS}')
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == 'bf16')


def synchronize(device: torch.device) -> None:
    """Wait for the queued work of a CUDA device; nothing to wait for on CPU."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def measure(
    fn: Callable[[], object],
    device: torch.device,
    warmup: int,
    repeats: int,
    host_timer: str = 'wall',
) -> Measurement:
    """Time ``repeats`` calls of ``fn`` after ``warmup`` untimed calls.

    On CUDA each call is timed with CUDA events and the peak memory allocated
    during the timed calls is read from ``torch.cuda.max_memory_allocated``. On
    CPU each call is timed with the clock ``host_timer`` names (see
    ``HOST_TIMERS``) and no peak is recorded.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f'need repeats >= 1 and warmup >= 0, got {repeats} and {warmup}')
    if host_timer not in HOST_TIMERS:
        raise ValueError(f'host_timer={host_timer!r} is not one of {tuple(HOST_TIMERS)}')
    for _ in range(warmup):
        fn()
    synchronize(device)
    if device.type != 'cuda':
        clock = HOST_TIMERS[host_timer]
        return Measurement([_time_on_host(fn, clock) for _ in range(repeats)], None)
    torch.cuda.reset_peak_memory_stats(device)
    seconds = [_time_with_events(fn) for _ in range(repeats)]
    return Measurement(seconds, torch.cuda.max_memory_allocated(device))


def _time_on_host(fn: Callable[[], object], clock: Callable[[], float]) -> float:
    start = clock()
    fn()
    return clock() - start


def _time_with_events(fn: Callable[[], object]) -> float:
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1000


def image_metas(samples: Sequence[SegDataSample]) -> List[dict]:
    """The meta information of each sample, as ``encode_decode`` takes it."""
    return [sample.metainfo for sample in samples]


def make_train_step(
    model: nn.Module,
    loss_fn: Callable[..., Dict],
    optimizer: torch.optim.Optimizer,
    inputs: torch.Tensor,
    samples: List[SegDataSample],
    device: torch.device,
    precision: str,
) -> Callable[[], None]:
    """One SGD training step: loss on full-resolution logits, backward, update.

    ``loss_fn`` is the segmentor's ``loss`` (possibly compiled): the forward pass
    and the losses of the decode and auxiliary heads, each computed on logits
    resized or cropped to the full-resolution labels.
    """

    def step() -> None:
        with autocast(device, precision):
            losses = loss_fn(inputs, samples)
        loss, _ = model.parse_losses(losses)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


def make_inference(
    encode_decode: Callable[..., torch.Tensor],
    inputs: torch.Tensor,
    samples: List[SegDataSample],
    device: torch.device,
    precision: str,
) -> Callable[[], torch.Tensor]:
    """A no-grad forward to full-resolution logits (``encode_decode``).

    ``encode_decode`` runs the backbone and the decode head and brings the logits
    to the input size (mmseg's ``predict`` without the argmax post-processing).
    """
    metas = image_metas(samples)

    def infer() -> torch.Tensor:
        with torch.no_grad(), autocast(device, precision):
            return encode_decode(inputs, metas)

    return infer


def profile_top_ops(
    fn: Callable[[], object], device: torch.device, steps: int = 2, top: int = 12
) -> List[dict]:
    """The operators that take the most time over ``steps`` calls of ``fn``.

    Profiled with ``torch.profiler``; ranked by self time on the GPU for CUDA
    devices, else by self CPU time.

    Returns:
        Up to ``top`` entries ``{'op', 'ms_per_step', 'share'}``, ``share`` being
        the fraction of the self time of all operators.
    """
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == 'cuda':
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as profiler:
        for _ in range(steps):
            fn()
        synchronize(device)
    key = 'self_device_time_total' if device.type == 'cuda' else 'self_cpu_time_total'
    events = [(event.key, getattr(event, key)) for event in profiler.key_averages()]
    events.sort(key=lambda event: event[1], reverse=True)
    total = sum(time_us for _, time_us in events) or 1
    return [
        dict(op=name, ms_per_step=time_us / 1e3 / steps, share=time_us / total)
        for name, time_us in events[:top]
    ]


def inference_flops(model: nn.Module, inputs: torch.Tensor, samples: List[SegDataSample]) -> int:
    """FLOPs of the eval-mode forward of ``make_inference`` (fp32, eager)."""
    was_training = model.training
    model.eval()
    try:
        device = inputs.device
        return count_flops(make_inference(model.encode_decode, inputs, samples, device, 'fp32'))
    finally:
        model.train(was_training)


def training_flops(model: nn.Module, inputs: torch.Tensor, samples: List[SegDataSample]) -> int:
    """FLOPs of a training forward and backward (fp32, eager, no update).

    The backward computes only the gradients autograd needs (none for the
    input image or for fixed weights), so the count is somewhat under three
    times the forward. Gradients are cleared afterwards.
    """
    was_training = model.training
    model.train()

    def forward_backward() -> None:
        loss, _ = model.parse_losses(model.loss(inputs, samples))
        loss.backward()

    try:
        return count_flops(forward_backward)
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)


def matmul_tflops(
    device: torch.device, size: int, iterations: int, repeats: int = 3, host_timer: str = 'wall'
) -> float:
    """Measured dense bfloat16 matrix multiplication rate, in TFLOP/s.

    Multiplies two ``size x size`` bfloat16 matrices ``iterations`` times per
    timed call (after one untimed call) and takes the median of ``repeats``;
    ``host_timer`` as in :func:`measure`.
    """
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=generator).to(device, torch.bfloat16)
    b = torch.randn(size, size, generator=generator).to(device, torch.bfloat16)
    out = torch.empty_like(a)

    def loop() -> None:
        for _ in range(iterations):
            torch.mm(a, b, out=out)

    seconds = measure(loop, device, 1, repeats, host_timer).median
    return 2 * size**3 * iterations / seconds / 1e12


def prediction_agreement(reference: torch.Tensor, candidate: torch.Tensor) -> Dict[str, float]:
    """Compare two ``(N, C, H, W)`` logit maps of the same input.

    Returns:
        ``pixel_agreement``: fraction of pixels with the same argmax class;
        ``max_abs_diff``: largest absolute logit difference;
        ``relative_max_abs_diff``: that difference over the reference's logit
        range (max - min).
    """
    if reference.shape != candidate.shape:
        raise ValueError(
            f'logits of shapes {tuple(reference.shape)} and '
            f'{tuple(candidate.shape)} cannot be compared'
        )
    reference, candidate = reference.float(), candidate.float()
    agreement = (reference.argmax(1) == candidate.argmax(1)).float().mean()
    max_abs_diff = (reference - candidate).abs().max()
    logit_range = reference.max() - reference.min()
    return dict(
        pixel_agreement=agreement.item(),
        max_abs_diff=max_abs_diff.item(),
        relative_max_abs_diff=(max_abs_diff / logit_range).item(),
    )
