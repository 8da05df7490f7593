"""One-line bugs for ``tools/dev/mutate.py``: realistic slips, one per entry.

Each entry changes one piece of one line (the original must occur exactly once in the
file) and names the tests that should catch it: the test file mirroring the module,
plus the tests of its direct users where those are the ones that check values. Add an
entry when a bug slips through review; keep the originals in step with the code.
"""

from typing import NamedTuple, Tuple


class Mutation(NamedTuple):
    """One planted bug.

    Attributes:
        name: Short unique name, ``<module>:<what goes wrong>``.
        path: File to change, relative to the repository root.
        original: Exact text on one line of the file, found exactly once.
        replacement: What it becomes.
        tests: pytest paths or node ids, relative to the repository root.
    """

    name: str
    path: str
    original: str
    replacement: str
    tests: Tuple[str, ...]


PKG = 'mmseg_fcn_skip/'
PREFLIGHT_TESTS = ('tests/engine/test_preflight.py',)
HEAD = 'tests/models/decode_heads/test_fcn_skip_head.py'
GEOMETRY_TESTS = ('tests/models/test_geometry.py', HEAD)
UPSAMPLE_TESTS = ('tests/models/utils/test_upsample.py', HEAD)
BACKBONE_TESTS = ('tests/models/backbones/test_fully_conv_vgg.py',)
HEAD_TESTS = (HEAD, 'tests/models/decode_heads/test_fcn_skip_head_no_resize.py')
GRID_HEAD = 'tests/models/decode_heads/test_fcn_skip_head_grids.py'
COMMON_TESTS = ('tests/converters/test_common.py', 'tests/converters/test_vgg.py')
PREPROCESSOR_TESTS = (
    'tests/tools/test_model_converters.py',
    'tests/test_configs.py::test_the_data_preprocessor_matches_the_weights_the_config_starts_from',
)
VGG_TESTS = ('tests/converters/test_vgg.py', 'tests/tools/test_model_converters.py')
FCN_TESTS = ('tests/converters/test_fcn.py',)
CAFFEMODEL_TESTS = ('tests/converters/test_caffemodel.py',)
READER_TESTS = ('tests/checkpoints/test_reader.py',)
FIT_TESTS = ('tests/checkpoints/test_fit.py',)
CHECKPOINT_IO_TESTS = ('tests/engine/test_checkpoint_io.py',)
LEVEL_NAME_TESTS = ('tests/models/decode_heads/test_level_names.py',)
HOOK_TESTS = ('tests/engine/test_engine_hooks.py',)
SEEDING_TESTS = ('tests/engine/test_seeding.py',)
TRANSFORM_TESTS = ('tests/engine/test_transforms.py',)
SAMPLER_TESTS = ('tests/engine/test_samplers.py',)
METRIC_TESTS = ('tests/evaluation',)
INFERENCE_TESTS = ('tests/apis/test_inference.py',)
LOAD_MODEL_TESTS = ('tests/apis/test_load_model.py',)
DATASET_TESTS = ('tests/datasets',)
AMP_TESTS = ('tests/utils/test_amp.py',)
CURVE_TESTS = ('tests/analysis/test_curves.py',)
EXPORT_TESTS = ('tests/apis/test_export.py',)
LAUNCH_TESTS = ('tests/utils/test_launch.py',)
BENCHMARK_TESTS = ('tests/benchmark/test_benchmark.py',)
STRIDES_TESTS = ('tests/models/decode_heads/test_fcn_skip_head_strides.py', HEAD)
FROZEN_TESTS = ('tests/models/backbones/test_frozen_stages.py',) + BACKBONE_TESTS
CHECKPOINT_CASE_TESTS = (
    ('tests/checkpoints/test_checkpoint_cases.py',) + READER_TESTS + (CHECKPOINT_IO_TESTS)
)
ATOMIC_TESTS = ('tests/engine/test_atomic_io_writers.py',) + CHECKPOINT_IO_TESTS
LAUNCH_NODE_TESTS = ('tests/utils/test_launch_nodes.py',) + LAUNCH_TESTS
INFER_TOOL_TESTS = (
    ('tests/tools/test_infer_nested_output.py',) + INFERENCE_TESTS + ('tests/tools/test_infer.py',)
)

MUTATIONS = (
    # geometry: where each map lies on the input
    Mutation(
        'geometry:conv-padding-sign',
        PKG + 'models/geometry.py',
        'centre = Fraction(kernel - 1, 2) - padding',
        'centre = Fraction(kernel - 1, 2) + padding',
        GEOMETRY_TESTS,
    ),
    Mutation(
        'geometry:deconv-shift-unscaled',
        PKG + 'models/geometry.py',
        'self.offset + self.stride * shift / stride',
        'self.offset + self.stride * shift',
        GEOMETRY_TESTS,
    ),
    Mutation(
        'geometry:interpolate-shift-sign',
        PKG + 'models/geometry.py',
        'Fraction(1 - factor, 2 * factor)',
        'Fraction(factor - 1, 2 * factor)',
        GEOMETRY_TESTS,
    ),
    Mutation(
        'geometry:corner-named-centre',
        PKG + 'models/geometry.py',
        "if name == 'centre' else Fraction(0)",
        "if name != 'centre' else Fraction(0)",
        GEOMETRY_TESTS + (GRID_HEAD,),
    ),
    Mutation(
        'geometry:float-offset-inexact',
        PKG + 'models/geometry.py',
        'offset.limit_denominator(64) if isinstance(value, float)',
        'offset if isinstance(value, float)',
        GEOMETRY_TESTS + (GRID_HEAD,),
    ),
    Mutation(
        'geometry:crop-wrong-map',
        PKG + 'models/geometry.py',
        'return (shift, 0) if shift >= 0 else (0, -shift)',
        'return (0, shift) if shift >= 0 else (-shift, 0)',
        GEOMETRY_TESTS,
    ),
    # upsampling
    Mutation(
        'upsample:kernel-centre-parity',
        PKG + 'models/utils/upsample.py',
        'factor - 1 if size % 2 == 1 else factor - 0.5',
        'factor - 1 if size % 2 == 0 else factor - 0.5',
        UPSAMPLE_TESTS,
    ),
    Mutation(
        'upsample:odd-kernel-factor',
        PKG + 'models/utils/upsample.py',
        'factor = (size + 1) // 2',
        'factor = size // 2',
        UPSAMPLE_TESTS,
    ),
    Mutation(
        'upsample:align-corners',
        PKG + 'models/utils/upsample.py',
        'align_corners=False)',
        'align_corners=True)',
        UPSAMPLE_TESTS,
    ),
    Mutation(
        'upsample:deconv-grid-padding',
        PKG + 'models/utils/upsample.py',
        'return grid.transposed_conv(kernel, factor)',
        'return grid.transposed_conv(kernel, factor, 1)',
        UPSAMPLE_TESTS,
    ),
    Mutation(
        'upsample:learnable-cross-channel',
        PKG + 'models/utils/upsample.py',
        'weight = torch.zeros(channels, channels, size, size)',
        'weight = torch.ones(channels, channels, size, size)',
        UPSAMPLE_TESTS,
    ),
    Mutation(
        'upsample:corner-grid-even-kernel',
        PKG + 'models/utils/upsample.py',
        'kernel = 2 * factor - 1 if align_corners else 2 * factor',
        'kernel = 2 * factor',
        UPSAMPLE_TESTS + (GRID_HEAD,),
    ),
    Mutation(
        'upsample:corner-bilinear-no-edge',
        PKG + 'models/utils/upsample.py',
        "x = F.pad(x, [0, 1, 0, 1], mode='replicate')",
        'x = x',
        UPSAMPLE_TESTS + (GRID_HEAD,),
    ),
    # converters
    Mutation(
        'converters:fc6-channels-last',
        PKG + 'converters/common.py',
        'return weight.reshape(weight.shape[0], in_channels, kernel, kernel)',
        'return weight.reshape(weight.shape[0], kernel, kernel, in_channels).permute(0, 3, 1, 2)',
        COMMON_TESTS,
    ),
    Mutation(
        'converters:bn-bias-fold-sign',
        PKG + 'converters/common.py',
        'running_mean = running_mean - layer.bias',
        'running_mean = running_mean + layer.bias',
        COMMON_TESTS,
    ),
    Mutation(
        'converters:torchvision-bgr',
        PKG + 'converters/vgg.py',
        'bgr_to_rgb=True, mean=[123.675, 116.28, 103.53], std=',
        'bgr_to_rgb=False, mean=[123.675, 116.28, 103.53], std=',
        PREPROCESSOR_TESTS,
    ),
    Mutation(
        'converters:caffe-mean-rgb-order',
        PKG + 'converters/vgg.py',
        'mean=[104.00699, 116.66877, 122.67892], std=[1.0',
        'mean=[122.67892, 116.66877, 104.00699], std=[1.0',
        PREPROCESSOR_TESTS,
    ),
    Mutation(
        'converters:optional-keys-unknown',
        PKG + 'converters/common.py',
        'unknown = sorted(found - expected - set(optional))',
        'unknown = sorted(found - expected)',
        COMMON_TESTS,
    ),
    Mutation(
        'converters:at-once-port-refused',
        PKG + 'converters/fcn.py',
        "(variant, key_variant) != ('8s-atonce', '8s')",
        "(variant, key_variant) != ('8s', '8s-atonce')",
        FCN_TESTS,
    ),
    Mutation(
        'converters:bn-conv-index-step',
        PKG + 'converters/vgg.py',
        'step = 3 if with_norm else 2',
        'step = 2 if with_norm else 3',
        VGG_TESTS,
    ),
    Mutation(
        'converters:at-once-scales-swapped',
        PKG + 'converters/fcn.py',
        "AT_ONCE_SCALES = {'scale_pool3': 0.0001, 'scale_pool4': 0.01}",
        "AT_ONCE_SCALES = {'scale_pool3': 0.01, 'scale_pool4': 0.0001}",
        FCN_TESTS,
    ),
    Mutation(
        'converters:bilinear-check-all-pairs',
        PKG + 'converters/fcn.py',
        'expected[range(channels), range(channels)] = bilinear_kernel(kernel)',
        'expected[:, :] = bilinear_kernel(kernel)',
        FCN_TESTS,
    ),
    Mutation(
        'converters:caffemodel-varint-shift',
        PKG + 'converters/caffemodel.py',
        'shift += 7',
        'shift += 8',
        CAFFEMODEL_TESTS,
    ),
    Mutation(
        'converters:caffemodel-double-as-float',
        PKG + 'converters/caffemodel.py',
        "chunks.append(np.frombuffer(value, dtype='<f8'))",
        "chunks.append(np.frombuffer(value, dtype='<f4'))",
        CAFFEMODEL_TESTS,
    ),
    Mutation(
        'converters:caffemodel-v1-fc-enum',
        PKG + 'converters/caffemodel.py',
        'elif layer_type in INNER_PRODUCT and _is_legacy_matrix(blob):',
        "elif layer_type == 'InnerProduct' and _is_legacy_matrix(blob):",
        CAFFEMODEL_TESTS,
    ),
    # checkpoint checks and writes
    Mutation(
        'checkpoint:crc-not-read',
        PKG + 'checkpoints/reader.py',
        'while record.read(1 << 24):',
        'while record.read(1) and False:',
        READER_TESTS,
    ),
    Mutation(
        'checkpoint:variant-name',
        PKG + 'checkpoints/fit.py',
        "return f'FCN-{32 >> skip_levels}s'",
        "return f'FCN-{32 // (skip_levels + 1)}s'",
        FIT_TESTS,
    ),
    Mutation(
        'checkpoint:resume-oldest-first',
        PKG + 'engine/resume.py',
        'sorted(numbered, reverse=True)',
        'sorted(numbered)',
        CHECKPOINT_IO_TESTS,
    ),
    Mutation(
        'checkpoint:ddp-prefix-anywhere',
        PKG + 'checkpoints/reader.py',
        "re.sub(r'^module\\.', '', key)",
        "key.replace('module.', '')",
        READER_TESTS,
    ),
    Mutation(
        'checkpoint:atomic-overrides-storage',
        PKG + 'engine/atomic_io.py',
        "if not hook or hook.get('backend_args') or hook.get('file_client_args'):",
        "if not hook or hook.get('file_client_args'):",
        CHECKPOINT_IO_TESTS,
    ),
    Mutation(
        'checkpoint:listing-one-short',
        PKG + 'checkpoints/fit.py',
        'rest = len(items) - MAX_LISTED_KEYS',
        'rest = len(items) - MAX_LISTED_KEYS - 1',
        FIT_TESTS,
    ),
    Mutation(
        'atomic:partial-left-on-error',
        PKG + 'engine/atomic_io.py',
        'temp.unlink(missing_ok=True)',
        'pass',
        CHECKPOINT_IO_TESTS,
    ),
    Mutation(
        'checkpoint:resume-kept-without-checkpoint',
        PKG + 'engine/resume.py',
        'cfg.resume = False',
        'cfg.resume = True',
        CHECKPOINT_IO_TESTS,
    ),
    # load_from: which weights fit, and the level names that carry them
    Mutation(
        'fit:finer-variant-dropped-silently',
        PKG + 'checkpoints/fit.py',
        '            if drop_layers:',
        '            if True:',
        FIT_TESTS,
    ),
    Mutation(
        'fit:new-classes-excuse-any-shape',
        PKG + 'checkpoints/fit.py',
        'if classes and heads.is_class_layer(key):',
        'if classes:',
        FIT_TESTS,
    ),
    Mutation(
        'fit:staged-without-new-layer-check',
        PKG + 'checkpoints/fit.py',
        'if level and _layer(key) not in found_layers:',
        'if True:',
        FIT_TESTS,
    ),
    Mutation(
        'names:fusion-named-by-finer-stride',
        PKG + 'models/decode_heads/fcn_skip_head.py',
        'level_name(deep),',
        'level_name(fine),',
        LEVEL_NAME_TESTS,
    ),
    Mutation(
        'names:old-levels-taken-finest',
        PKG + 'models/decode_heads/level_names.py',
        'strides = tuple(in_strides[-num_skips - 1 :])',
        'strides = tuple(in_strides[: num_skips + 1])',
        LEVEL_NAME_TESTS,
    ),
    Mutation(
        'names:old-upsamplings-finest-first',
        PKG + 'models/decode_heads/level_names.py',
        'else strides[-1 - index]',
        'else strides[index + 1]',
        LEVEL_NAME_TESTS,
    ),
    Mutation(
        'names:positional-keys-not-mapped',
        PKG + 'models/decode_heads/fcn_skip_head.py',
        'renames = positional_renames(list(state_dict), prefix, self.in_strides)',
        'renames = {}',
        LEVEL_NAME_TESTS,
    ),
    Mutation(
        'launch:user-device-ids-kept',
        PKG + 'utils/launch.py',
        " wrapper_cfg['device_ids'] = None",  # the code, not the docstring
        " wrapper_cfg.setdefault('device_ids', None)",
        LAUNCH_TESTS,
    ),
    Mutation(
        'launch:timeout-in-minutes',
        PKG + 'utils/launch.py',
        'datetime.timedelta(seconds=timeout)',
        'datetime.timedelta(minutes=timeout)',
        LAUNCH_TESTS,
    ),
    Mutation(
        'launch:group-left-alive',
        PKG + 'utils/launch.py',
        '    dist.destroy_process_group()',
        '    dist.barrier()',
        LAUNCH_TESTS,
    ),
    Mutation(
        'launch:group-freed-at-exit',
        PKG + 'utils/launch.py',
        '    gc.collect()',
        '    pass',
        LAUNCH_TESTS,
    ),
    Mutation(
        'train-tool:group-left-alive',
        'tools/train.py',
        '    close_distributed()',
        '    pass',
        ('tests/tools/test_train_and_test.py::test_tools_destroy_the_process_group_they_ran_in',),
    ),
    Mutation(
        'amp:gpu-static-loss-scale',
        PKG + 'utils/amp.py',
        "cfg.optim_wrapper.loss_scale = 'dynamic'",
        'cfg.optim_wrapper.loss_scale = 512.0',
        AMP_TESTS,
    ),
    Mutation(
        'benchmark:cheapest-operators-first',
        PKG + 'benchmark/measure.py',
        'events.sort(key=lambda event: event[1], reverse=True)',
        'events.sort(key=lambda event: event[1])',
        BENCHMARK_TESTS,
    ),
    Mutation(
        'benchmark:clock-not-subtracted',
        PKG + 'benchmark/measure.py',
        'return clock() - start',
        'return clock()',
        BENCHMARK_TESTS,
    ),
    Mutation(
        'amp:cpu-float16',
        PKG + 'utils/amp.py',
        "device_type='cpu', dtype=torch.bfloat16):",
        "device_type='cpu', dtype=torch.float16):",
        AMP_TESTS,
    ),
    # hooks and seeding
    Mutation(
        'hooks:nan-only',
        PKG + 'engine/hooks.py',
        'bad = (~torch.isfinite(values)).any()',
        'bad = torch.isnan(values).any()',
        HOOK_TESTS,
    ),
    Mutation(
        'hooks:iteration-off-by-one',
        PKG + 'engine/hooks.py',
        '_non_finite_message(runner.iter + 1, losses, locally_finite)',
        '_non_finite_message(runner.iter, losses, locally_finite)',
        HOOK_TESTS,
    ),
    Mutation(
        'hooks:warn-raises',
        PKG + 'engine/hooks.py',
        "if self.action == 'raise':",
        "if self.action != 'warn' or True:",
        HOOK_TESTS,
    ),
    Mutation(
        'hooks:iteration-seed-stream',
        PKG + 'engine/hooks.py',
        'derive_seed(runner.seed, STREAM_ITERATION, runner.iter)',
        'derive_seed(runner.seed, STREAM_SAMPLE, runner.iter)',
        HOOK_TESTS,
    ),
    Mutation(
        'hooks:guard-after-checkpoint',
        PKG + 'engine/hooks.py',
        "priority = 'ABOVE_NORMAL'",
        "priority = 'LOWEST'",
        HOOK_TESTS,
    ),
    Mutation(
        'hooks:total-loss-only',
        PKG + 'engine/hooks.py',
        "if 'loss' in key}",
        "if key == 'loss'}",
        HOOK_TESTS,
    ),
    Mutation(
        'seeding:numpy-low-bits-only',
        PKG + 'engine/seeding.py',
        'np.random.seed([seed & _UINT32, (seed >> 32) & _UINT32])',
        'np.random.seed(seed & _UINT32)',
        SEEDING_TESTS,
    ),
    # transforms
    Mutation(
        'transforms:label-boundary',
        PKG + 'engine/transforms.py',
        'invalid = (label >= self.num_classes) & (label != self.ignore_index)',
        'invalid = (label > self.num_classes) & (label != self.ignore_index)',
        TRANSFORM_TESTS,
    ),
    Mutation(
        'transforms:ignore-index-invalid',
        PKG + 'engine/transforms.py',
        'invalid = (label >= self.num_classes) & (label != self.ignore_index)',
        'invalid = label >= self.num_classes',
        TRANSFORM_TESTS,
    ),
    Mutation(
        'transforms:wide-label-boundary',
        PKG + 'engine/transforms.py',
        'if largest <= MAX_UINT8:',
        'if largest < MAX_UINT8:',
        TRANSFORM_TESTS,
    ),
    Mutation(
        'transforms:warns-after-seeded-samples',
        PKG + 'engine/transforms.py',
        'elif not (self._seeded or self._warned):',
        'elif not self._warned:',
        TRANSFORM_TESTS,
    ),
    Mutation(
        'transforms:warns-every-sample',
        PKG + 'engine/transforms.py',
        'if seg_path not in self._warned_paths:',
        'if True:',
        TRANSFORM_TESTS,
    ),
    Mutation(
        'transforms:label-checked-as-image',
        PKG + 'engine/transforms.py',
        "is_label=key == 'seg_map_path'",
        "is_label=key == 'img_path'",
        TRANSFORM_TESTS,
    ),
    # samplers
    Mutation(
        'samplers:rank-stride',
        PKG + 'engine/samplers.py',
        'position = self.rank + self._start * self.world_size',
        'position = self.rank + self._start',
        SAMPLER_TESTS,
    ),
    Mutation(
        'samplers:same-order-every-epoch',
        PKG + 'engine/samplers.py',
        'derive_seed(self.seed, STREAM_EPOCH_ORDER, epoch)',
        'derive_seed(self.seed, STREAM_EPOCH_ORDER, 0)',
        SAMPLER_TESTS,
    ),
    Mutation(
        'samplers:skip-relative',
        PKG + 'engine/samplers.py',
        'self._start = num_samples',
        'self._start += num_samples',
        SAMPLER_TESTS,
    ),
    Mutation(
        'samplers:seed-lost-in-workers',
        PKG + 'engine/samplers.py',
        'return SeededIndex, (int(self), self.seed)',
        'return int, (int(self), )',
        SAMPLER_TESTS,
    ),
    Mutation(
        'samplers:concat-global-index',
        PKG + 'engine/samplers.py',
        'sample_idx = SeededIndex(sample_idx, seed)',
        'sample_idx = SeededIndex(idx, seed)',
        SAMPLER_TESTS,
    ),
    # metric
    Mutation(
        'metric:pred-area-as-label-area',
        PKG + 'evaluation/fcn_metric.py',
        'intersect, union, _, label = (sum(areas)',
        'intersect, union, label, _ = (sum(areas)',
        METRIC_TESTS,
    ),
    Mutation(
        'metric:fwiou-over-present',
        PKG + 'evaluation/fcn_metric.py',
        '(label[present] * iu[present]).sum() / total)',
        '(label[present] * iu[present]).sum() / present.sum())',
        METRIC_TESTS,
    ),
    Mutation(
        'metric:rounded-to-1-decimal',
        PKG + 'evaluation/fcn_metric.py',
        'float(np.round(value * 100, 2))',
        'float(np.round(value * 100, 1))',
        METRIC_TESTS,
    ),
    Mutation(
        'metric:macc-counts-absent',
        PKG + 'evaluation/fcn_metric.py',
        "('mAcc', _class_accuracy(intersect, label).nanmean().item())",
        "('mAcc', _class_accuracy(intersect, label).nan_to_num().mean().item())",
        METRIC_TESTS,
    ),
    # inference
    Mutation(
        'inference:outputs-flattened',
        PKG + 'apis/inference.py',
        'relative = image.relative_to(root).with_suffix',
        'relative = Path(image.name).with_suffix',
        INFERENCE_TESTS,
    ),
    Mutation(
        'inference:pad-top-left',
        PKG + 'apis/inference.py',
        'F.pad(x, (0, right, 0, bottom), value=pad_val)',
        'F.pad(x, (right, 0, bottom, 0), value=pad_val)',
        INFERENCE_TESTS,
    ),
    Mutation(
        'inference:group-by-height',
        PKG + 'apis/inference.py',
        "(batch_mode == 'pad' or sizes[last[0]] == sizes[path])",
        "(batch_mode == 'pad' or sizes[last[0]][0] == sizes[path][0])",
        INFERENCE_TESTS,
    ),
    Mutation(
        'inference:blend-opacity-swapped',
        PKG + 'apis/inference.py',
        'mixed = (1 - opacity) * image_rgb + opacity * colorize(label, palette)',
        'mixed = opacity * image_rgb + (1 - opacity) * colorize(label, palette)',
        INFERENCE_TESTS,
    ),
    Mutation(
        'inference:exclude-direct-children-only',
        PKG + 'apis/inference.py',
        'if exclude not in p.resolve().parents]',
        'if exclude != p.resolve().parent]',
        INFERENCE_TESTS,
    ),
    Mutation(
        'inference:skip-if-any-output',
        PKG + 'apis/inference.py',
        'if skip_existing and all(p.is_file()',
        'if skip_existing and any(p.is_file()',
        INFERENCE_TESTS,
    ),
    Mutation(
        'inference:unknown-labels-black',
        PKG + 'apis/inference.py',
        'table = np.full((256, 3), 255, dtype=np.uint8)',
        'table = np.zeros((256, 3), dtype=np.uint8)',
        INFERENCE_TESTS,
    ),
    Mutation(
        'inference:padding-size-not-accumulated',
        PKG + 'apis/inference.py',
        'img_padding_size=[left, old_right + right, top, old_bottom + bottom]',
        'img_padding_size=[left, right, top, bottom]',
        INFERENCE_TESTS,
    ),
    Mutation(
        'export:channels-not-swapped',
        PKG + 'apis/export.py',
        'if self.swap_channels else image',
        'if not self.swap_channels else image',
        EXPORT_TESTS,
    ),
    Mutation(
        'export:crop-bottom-right',
        PKG + 'apis/export.py',
        'return logits[:, :, : image.shape[2], : image.shape[3]]',
        'return logits[:, :, -image.shape[2] :, -image.shape[3] :]',
        EXPORT_TESTS,
    ),
    Mutation(
        'curves:first-value-wins',
        PKG + 'analysis/curves.py',
        'points.setdefault(key, {})[step] = float(value)',
        'points.setdefault(key, {}).setdefault(step, float(value))',
        CURVE_TESTS,
    ),
    Mutation(
        'curves:label-of-run-folder',
        PKG + 'analysis/curves.py',
        'return path.parents[2].name',
        'return path.parents[1].name',
        CURVE_TESTS,
    ),
    Mutation(
        'load-model:default-palette-class0',
        PKG + 'apis/checkpoint.py',
        'colours[0] = 0',
        'colours[-1] = 0',
        LOAD_MODEL_TESTS,
    ),
    Mutation(
        'load-model:config-metainfo-ignored',
        PKG + 'apis/checkpoint.py',
        "meta.update(dataset.get('metainfo') or {})",
        'pass',
        LOAD_MODEL_TESTS,
    ),
    Mutation(
        'load-model:palette-too-short-kept',
        PKG + 'apis/checkpoint.py',
        'if not palette or len(palette) < class_count:',
        'if not palette:',
        LOAD_MODEL_TESTS,
    ),
    # dataset
    Mutation(
        'toy-shapes:outline-not-ignored',
        PKG + 'datasets/toy_shapes.py',
        'label[edge.astype(bool)] = IGNORE_INDEX',
        'label[edge.astype(bool)] = 0',
        DATASET_TESTS,
    ),
    Mutation(
        'toy-shapes:largest-size-never-drawn',
        PKG + 'datasets/toy_shapes.py',
        'rng.integers(low, high + 1, size=2)',
        'rng.integers(low, high, size=2)',
        DATASET_TESTS,
    ),
    Mutation(
        'toy-shapes:rgb-written-as-bgr',
        PKG + 'datasets/toy_shapes.py',
        'cv2.imwrite(str(img_dir / name), image[..., ::-1])',
        'cv2.imwrite(str(img_dir / name), image)',
        DATASET_TESTS,
    ),
    # backbone
    Mutation(
        'backbone:no-dropout-after-fc6',
        PKG + 'models/backbones/fully_conv_vgg.py',
        'x = self.dropout(self.fc6(x))',
        'x = self.fc6(x)',
        BACKBONE_TESTS,
    ),
    Mutation(
        'backbone:no-dropout-after-fc7',
        PKG + 'models/backbones/fully_conv_vgg.py',
        'levels.append(self.dropout(self.fc7(x)))',
        'levels.append(self.fc7(x))',
        BACKBONE_TESTS,
    ),
    Mutation(
        'backbone:dropout-before-fc6',
        PKG + 'models/backbones/fully_conv_vgg.py',
        'x = self.dropout(self.fc6(x))',
        'x = self.fc6(self.dropout(x))',
        BACKBONE_TESTS,
    ),
    Mutation(
        'backbone:pad-every-block-start',
        PKG + 'models/backbones/fully_conv_vgg.py',
        'if block_index == conv_index == 0 else 1',
        'if conv_index == 0 else 1',
        BACKBONE_TESTS,
    ),
    Mutation(
        'backbone:pool-floor',
        PKG + 'models/backbones/fully_conv_vgg.py',
        'nn.MaxPool2d(2, stride=2, ceil_mode=True)',
        'nn.MaxPool2d(2, stride=2, ceil_mode=False)',
        BACKBONE_TESTS,
    ),
    Mutation(
        'backbone:fc7-not-frozen',
        PKG + 'models/backbones/fully_conv_vgg.py',
        'frozen += [self.fc6, self.fc7]',
        'frozen += [self.fc6]',
        BACKBONE_TESTS,
    ),
    Mutation(
        'backbone:frozen-one-short',
        PKG + 'models/backbones/fully_conv_vgg.py',
        'frozen = list(self.blocks[: self.frozen_stages + 1])',
        'frozen = list(self.blocks[: self.frozen_stages])',
        BACKBONE_TESTS,
    ),
    # head
    Mutation(
        'head:scale-score-not-level',
        PKG + 'models/decode_heads/fcn_skip_head.py',
        'score_conv(level), skip_crop)',
        'score_conv(level / (scale or 1)) * (scale or 1), skip_crop)',
        HEAD_TESTS,
    ),
    Mutation(
        'head:skip-crop-rows-only',
        PKG + 'models/decode_heads/fcn_skip_head.py',
        'skip_crop : skip_crop + up.shape[-1]]',
        ': up.shape[-1]]',
        HEAD_TESTS,
    ),
    Mutation(
        'head:up-crop-not-carried',
        PKG + 'models/decode_heads/fcn_skip_head.py',
        'grid = Grid(up_grid.stride, up_grid.offset + up_grid.stride * up_crop)',
        'grid = up_grid',
        HEAD_TESTS,
    ),
    Mutation(
        'head:left-out-skip-off-by-one',
        PKG + 'models/decode_heads/fcn_skip_head.py',
        'if step >= num_levels - 1:',
        'if step > num_levels - 1:',
        HEAD_TESTS,
    ),
    Mutation(
        'head:default-grid-corner',
        PKG + 'models/decode_heads/fcn_skip_head.py',
        "in_level_grids(self.in_grids or 'centre', self.in_strides)",
        "in_level_grids(self.in_grids or 'corner', self.in_strides)",
        HEAD_TESTS + (GRID_HEAD,),
    ),
    Mutation(
        'head:final-upsample-to-finest-level',
        PKG + 'models/decode_heads/fcn_skip_head.py',
        'targets = [Grid.input()] + list(grids[:-1])',
        'targets = list(grids[:-1]) + [Grid.input()]',
        (GRID_HEAD,),
    ),
    Mutation(
        'head:crop-bottom-right',
        PKG + 'models/decode_heads/fcn_skip_head.py',
        'return logits[..., :height, :width]',
        'return logits[..., -height:, -width:]',
        HEAD_TESTS,
    ),
    Mutation(
        'head:default-strides',
        PKG + 'models/decode_heads/level_names.py',
        '32 >> (num_levels - 1 - k) for k in range(num_levels)',
        '32 >> (num_levels - k) for k in range(num_levels)',
        HEAD_TESTS + LEVEL_NAME_TESTS,
    ),
    Mutation(
        'head:score-bias-not-zeroed',
        PKG + 'models/decode_heads/fcn_skip_head.py',
        'nn.init.zeros_(conv.bias)',
        'nn.init.normal_(conv.bias, std=0.01)',
        HEAD_TESTS,
    ),
    Mutation(
        'head:score-init-inverted',
        PKG + 'models/decode_heads/fcn_skip_head.py',
        "if self.score_init == 'zeros':",
        "if self.score_init != 'zeros':",
        HEAD_TESTS,
    ),
    # By argument and mode: for each public argument of the head and the backbone,
    # each checkpoint case and each launcher variable, a bug that only a non-default
    # value shows (written from the code alone).
    Mutation(
        'head:in-strides-factors-fine-first',
        PKG + 'models/decode_heads/fcn_skip_head.py',
        'for fine, deep, corner in reversed(steps)',
        'for fine, deep, corner in steps',
        STRIDES_TESTS,
    ),
    Mutation(
        'head:in-strides-final-factor-assumed',
        PKG + 'models/decode_heads/fcn_skip_head.py',
        'self.out_channels, in_strides[0], upsample,',
        'self.out_channels, 32 >> (len(in_strides) - 1), upsample,',
        STRIDES_TESTS,
    ),
    Mutation(
        'head:in-strides-multiple-unchecked',
        PKG + 'models/decode_heads/fcn_skip_head.py',
        'deep % fine == 0 and deep >= 2 * fine for',
        'deep >= 2 * fine for',
        STRIDES_TESTS,
    ),
    Mutation(
        'level-check:in-strides-ratio-two',
        PKG + 'models/decode_heads/level_check.py',
        'ratio = in_strides[k + 1] // in_strides[k]',
        'ratio = 2',
        STRIDES_TESTS,
    ),
    Mutation(
        'head:pad-mode-caffe-grid-by-position',
        PKG + 'models/decode_heads/fcn_skip_head.py',
        'return [vgg_grids[vgg_strides.index(s)] for s in self.in_strides[:-1]',
        'return [vgg_grids[k] for k, s in enumerate(self.in_strides[:-1])',
        STRIDES_TESTS,
    ),
    Mutation(
        'level-check:pad-mode-caffe-pool5-floor',
        PKG + 'models/decode_heads/level_check.py',
        'pool5 = [-(-n // (32 // s)) for n, s',
        'pool5 = [n // (32 // s) for n, s',
        STRIDES_TESTS,
    ),
    Mutation(
        'head:upsample-final-always-deconv',
        PKG + 'models/decode_heads/fcn_skip_head.py',
        'self.out_channels, in_strides[0], upsample,',
        "self.out_channels, in_strides[0], 'deconv',",
        STRIDES_TESTS,
    ),
    Mutation(
        'head:upsample-fuse-not-learned',
        PKG + 'models/decode_heads/fcn_skip_head.py',
        'learn_upsample, corner),',
        'False, corner),',
        STRIDES_TESTS,
    ),
    Mutation(
        'upsample:bilinear-grid-as-deconv',
        PKG + 'models/utils/upsample.py',
        'return grid.interpolate(factor)',
        'return grid.transposed_conv(2 * factor, factor)',
        ('tests/models/decode_heads/test_fcn_skip_head_strides.py',) + UPSAMPLE_TESTS,
    ),
    Mutation(
        'head:skip-scales-in-training-only',
        PKG + 'models/decode_heads/fcn_skip_head.py',
        'if scale is not None:',
        'if scale is not None and self.training:',
        STRIDES_TESTS,
    ),
    Mutation(
        'head:skip-scales-zero-accepted',
        PKG + 'models/decode_heads/fcn_skip_head.py',
        'or any(s <= 0 for s in skip_scales)',
        'or any(s < 0 for s in skip_scales)',
        STRIDES_TESTS,
    ),
    Mutation(
        'backbone:frozen-stages-default-freezes-block0',
        PKG + 'models/backbones/fully_conv_vgg.py',
        'frozen = list(self.blocks[: self.frozen_stages + 1])',
        'frozen = list(self.blocks[: max(self.frozen_stages, 0) + 1])',
        FROZEN_TESTS,
    ),
    Mutation(
        'backbone:frozen-stages-fc-at-4',
        PKG + 'models/backbones/fully_conv_vgg.py',
        'if self.frozen_stages == 5:',
        'if self.frozen_stages >= 4:',
        FROZEN_TESTS,
    ),
    Mutation(
        'backbone:frozen-stages-direct-params-only',
        PKG + 'models/backbones/fully_conv_vgg.py',
        'for param in module.parameters():',
        'for param in module.parameters(recurse=False):',
        FROZEN_TESTS,
    ),
    Mutation(
        'backbone:frozen-stages-undone-by-train',
        PKG + 'models/backbones/fully_conv_vgg.py',
        '        super().train(mode)',
        '        return super().train(mode)',
        FROZEN_TESTS,
    ),
    Mutation(
        'backbone:norm-eval-inverted',
        PKG + 'models/backbones/fully_conv_vgg.py',
        'if mode and self.norm_eval:',
        'if mode and not self.norm_eval:',
        FROZEN_TESTS,
    ),
    Mutation(
        'checkpoint:empty-file-not-named',
        PKG + 'checkpoints/reader.py',
        '    if not head:',
        '    if head is None:',
        CHECKPOINT_CASE_TESTS,
    ),
    Mutation(
        'checkpoint:non-checkpoint-accepted',
        PKG + 'checkpoints/reader.py',
        'elif head[0] != _PICKLE_PROTOCOL_OPCODE:',
        'elif False:',
        CHECKPOINT_CASE_TESTS,
    ),
    Mutation(
        'checkpoint:partly-tensors-accepted',
        PKG + 'checkpoints/reader.py',
        'if checkpoint and all(isinstance(v, torch.Tensor) for v in checkpoint.values()):',
        'if checkpoint and any(isinstance(v, torch.Tensor) for v in checkpoint.values()):',
        CHECKPOINT_CASE_TESTS,
    ),
    Mutation(
        'checkpoint:meta-key-misread',
        PKG + 'checkpoints/reader.py',
        "meta = checkpoint.get('meta') if",
        "meta = checkpoint.get('metainfo') if",
        CHECKPOINT_CASE_TESTS,
    ),
    Mutation(
        'checkpoint:resume-pointer-ignored',
        PKG + 'engine/resume.py',
        'candidates.append(Path(target))',
        'pass',
        CHECKPOINT_CASE_TESTS,
    ),
    Mutation(
        'checkpoint:resume-pointer-folder-ignored',
        PKG + 'engine/resume.py',
        'for directory in {folder, work_dir}:',
        'for directory in {work_dir}:',
        CHECKPOINT_CASE_TESTS,
    ),
    Mutation(
        'checkpoint:resume-stops-at-damaged',
        PKG + 'engine/resume.py',
        '            continue',
        '            break',
        CHECKPOINT_CASE_TESTS,
    ),
    Mutation(
        'checkpoint:load-from-unchecked',
        PKG + 'engine/resume.py',
        '        check_checkpoint_file(cfg.load_from)',
        '        pass',
        CHECKPOINT_CASE_TESTS,
    ),
    Mutation(
        'atomic:temp-name-fixed',
        PKG + 'engine/atomic_io.py',
        "f'.{path.name}.{uuid.uuid4().hex[:12]}.partial'",
        "f'.{path.name}.partial'",
        ATOMIC_TESTS,
    ),
    Mutation(
        'atomic:folder-not-created',
        PKG + 'engine/atomic_io.py',
        'path.parent.mkdir(parents=True, exist_ok=True)',
        'pass',
        ATOMIC_TESTS,
    ),
    Mutation(
        'atomic:hook-plain-backend',
        PKG + 'engine/atomic_io.py',
        "hook['backend_args'] = dict(backend=ATOMIC_BACKEND)",
        "hook['backend_args'] = dict(backend='local')",
        ATOMIC_TESTS,
    ),
    Mutation(
        'launch:rank-is-local-rank',
        PKG + 'utils/launch.py',
        "rank=int(os.environ['RANK'])",
        "rank=int(os.environ['LOCAL_RANK'])",
        LAUNCH_NODE_TESTS,
    ),
    Mutation(
        'launch:world-size-per-node',
        PKG + 'utils/launch.py',
        "world_size=int(os.environ['WORLD_SIZE'])",
        "world_size=int(os.environ.get('LOCAL_WORLD_SIZE', os.environ['WORLD_SIZE']))",
        LAUNCH_NODE_TESTS,
    ),
    Mutation(
        'launch:rank-variable-unchecked',
        PKG + 'utils/launch.py',
        "TORCHRUN_ENV_VARS = ('RANK', 'WORLD_SIZE',",
        "TORCHRUN_ENV_VARS = ('WORLD_SIZE',",
        LAUNCH_NODE_TESTS,
    ),
    Mutation(
        'launch:slurm-silently-single',
        PKG + 'utils/launch.py',
        "if launcher == 'none' or torch.cuda.is_available():",
        "if launcher != 'pytorch' or torch.cuda.is_available():",
        LAUNCH_NODE_TESTS,
    ),
    Mutation(
        'infer-tool:outputs-not-excluded',
        'tools/infer.py',
        'find_images(args.input, exclude=out_dir)',
        'find_images(args.input)',
        INFER_TOOL_TESTS,
    ),
    Mutation(
        'inference:exclude-unresolved',
        PKG + 'apis/inference.py',
        'if exclude not in p.resolve().parents]',
        'if exclude not in p.parents]',
        INFER_TOOL_TESTS,
    ),
    Mutation(
        'preflight:only-too-few-classes',
        PKG + 'engine/preflight.py',
        'if count == len(classes) or (head_key, len(classes)) in seen:',
        'if count >= len(classes) or (head_key, len(classes)) in seen:',
        PREFLIGHT_TESTS,
    ),
    Mutation(
        'preflight:concat-datasets-unchecked',
        PKG + 'engine/preflight.py',
        'if isinstance(inner, (list, tuple)):',
        'if isinstance(inner, tuple):',
        PREFLIGHT_TESTS,
    ),
    Mutation(
        'preflight:any-image-ending',
        PKG + 'engine/preflight.py',
        'if parameter is None or parameter.default is inspect.Parameter.empty:',
        'if True:',
        PREFLIGHT_TESTS,
    ),
    Mutation(
        'cli:current-folder-bases-kept',
        PKG + 'cli.py',
        "if value.value.startswith(('./', '../')) and value.lineno == value.end_lineno:",
        "if value.value.startswith('../') and value.lineno == value.end_lineno:",
        ('tests/test_cli.py',),
    ),
    Mutation(
        'export-sizes:wrong-width-passes',
        PKG + 'apis/export_sizes.py',
        'if tuple(logits.shape) != (PROBE_BATCH, num_classes, height, width):',
        'if tuple(logits.shape)[:2] != (PROBE_BATCH, num_classes):',
        ('tests/tools/test_export_sizes.py',),
    ),
)
