"""The fast GPU training recipe (``tools/train.py --fast-gpu``): bf16 + channels_last (+ compile) on CUDA, and no
change at all to a run on a machine without CUDA."""
import pytest
import torch

import pose_plugins  # noqa: F401
from conftest import REPO
from pose_plugins.cli import parse_train_args, prepare_train_config, use_fast_gpu_training
from pose_plugins.engine import FastGPUTrainingHook
from pose_plugins.engine.fast_gpu_training_hook import _inputs_to_channels_last

DEMO = str(REPO / 'configs' / 'demo' / 'hrnet_tiny_synthetic.py')


def _prepared(tmp_path, *flags):
    return prepare_train_config(parse_train_args([DEMO, '--work-dir', str(tmp_path), *flags]))


def test_without_cuda_the_switch_leaves_the_config_as_it_is(tmp_path, monkeypatch):
    monkeypatch.setattr('mmengine.device.is_cuda_available', lambda: False)
    plain, fast = _prepared(tmp_path / 'a'), _prepared(tmp_path / 'b', '--fast-gpu', '--compile')
    assert fast.optim_wrapper == plain.optim_wrapper
    assert fast.get('custom_hooks') == plain.get('custom_hooks')


def test_with_cuda_the_switch_sets_bf16_autocast_and_the_hook(tmp_path, monkeypatch):
    monkeypatch.setattr('mmengine.device.is_cuda_available', lambda: True)
    cfg = _prepared(tmp_path, '--fast-gpu', '--compile')
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper' and cfg.optim_wrapper.dtype == 'bfloat16'
    assert cfg.optim_wrapper.loss_scale == dict(enabled=False)  # bf16 keeps fp32's exponent range: no scaling
    assert cfg.optim_wrapper.optimizer.fused is True  # Adam's fused kernel
    assert [h for h in cfg.custom_hooks if h['type'] == 'pose_plugins.FastGPUTrainingHook'] == [
        dict(type='pose_plugins.FastGPUTrainingHook', compile='blocks', compile_mode=None)]
    whole = _prepared(tmp_path / 'whole', '--fast-gpu', '--compile', 'whole')
    assert [h['compile'] for h in whole.custom_hooks if h['type'] == 'pose_plugins.FastGPUTrainingHook'] == ['whole']
    plain = _prepared(tmp_path / 'plain', '--fast-gpu')
    assert [h['compile'] for h in plain.custom_hooks if h['type'] == 'pose_plugins.FastGPUTrainingHook'] == [False]


def test_the_fused_optimizer_can_be_switched_off(tmp_path, monkeypatch):
    monkeypatch.setattr('mmengine.device.is_cuda_available', lambda: True)
    cfg = _prepared(tmp_path)
    cfg.fast_gpu_training = dict(fused_optimizer=False)
    use_fast_gpu_training(cfg)
    assert 'fused' not in cfg.optim_wrapper.optimizer


def test_the_hook_refuses_an_unknown_compile_value():
    with pytest.raises(ValueError, match="compile must be False, True, 'whole' or 'blocks', got 'all'"):
        FastGPUTrainingHook(compile='all')


def test_the_switch_refuses_unknown_options_and_a_lone_compile(tmp_path, monkeypatch):
    monkeypatch.setattr('mmengine.device.is_cuda_available', lambda: True)
    with pytest.raises(ValueError, match='--compile is part of the fast GPU recipe'):
        _prepared(tmp_path, '--compile')
    cfg = _prepared(tmp_path)
    cfg.fast_gpu_training = dict(compile=False, fp8=True)
    with pytest.raises(KeyError, match=r"fast_gpu_training: unknown option\(s\) \['fp8'\]; the options are compile"):
        use_fast_gpu_training(cfg)


def test_the_hook_changes_nothing_on_a_cpu_model():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    x = torch.randn(2, 3, 8, 8)
    before = model(x)
    assert FastGPUTrainingHook(channels_last=True, compile=True).apply(model) is False
    assert all(p.is_contiguous() for p in model.parameters())
    assert torch.equal(model(x), before)


def test_inputs_reach_the_model_in_channels_last():
    image, other = torch.randn(2, 3, 8, 6), torch.randn(2, 5)
    converted, untouched = _inputs_to_channels_last(torch.nn.Identity(), (image, other))
    assert converted.is_contiguous(memory_format=torch.channels_last) and torch.equal(converted, image)
    assert untouched is other
