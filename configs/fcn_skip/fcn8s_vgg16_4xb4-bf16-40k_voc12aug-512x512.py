# FCN-8s (same padding) of fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py, set up for speed on
# a recent GPU: bfloat16 autocast, channels-last model and inputs, cuDNN autotuning and
# torch.compile of the training step (mmengine's `compile`; the first iterations
# compile, then run faster). bfloat16 has float32's exponent range, so the loss is not
# scaled. Throughput and the check that predictions match float32: tools/analysis_tools/benchmark.py,
# docs/performance.md. AmpOptimWrapper needs a GPU; for a CPU run use tools/train.py
# with --cfg-options optim_wrapper.type=CPUAmpOptimWrapper compile=False.
_base_ = './fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py'
model = dict(data_preprocessor=dict(type='ChannelsLastSegDataPreProcessor', non_blocking=True))
# The constructor gives the optimizer plain-dict param groups, which `compile` needs
# (mmseg_fcn_skip/performance/compile.py).
optim_wrapper = dict(
    type='AmpOptimWrapper',
    dtype='bfloat16',
    loss_scale=dict(enabled=False),
    constructor='CompilableOptimWrapperConstructor',
)
custom_hooks = [
    dict(type='NonFiniteLossHook'),
    dict(type='IterationSeedHook'),
    dict(type='ChannelsLastHook'),
]
env_cfg = dict(cudnn_benchmark=True)
compile = True
# Data loading to keep up with the GPU (docs/performance.md): the VOC train pipeline
# costs about 16 ms of CPU per image, so 8 workers per GPU give about 500 img/s; pinned
# batches with non-blocking copies overlap the transfer (2 MiB of int64 labels per image)
# with GPU work.
train_dataloader = dict(num_workers=8, persistent_workers=True, pin_memory=True)
val_dataloader = dict(pin_memory=True)
test_dataloader = val_dataloader
