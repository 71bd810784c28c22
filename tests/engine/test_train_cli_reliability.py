"""What tools/train.py makes of a config for reliability: crash-safe checkpoint hook and RNG hook in every run
(our configs and users' configs that only import us), and ``--deterministic``."""
import pytest
from mmengine.config import Config

from conftest import DEMO_CONFIG
from pose_plugins.cli import parse_train_args, prepare_train_config, use_crash_safe_hooks


def _hooks(cfg_dict: dict) -> dict:
    cfg = Config(cfg_dict)
    use_crash_safe_hooks(cfg)
    return cfg.to_dict().get('default_hooks')


@pytest.mark.parametrize('checkpoint', [
    dict(type='CheckpointHook', interval=2, max_keep_ckpts=1),
    dict(type='mmengine.CheckpointHook', interval=2, max_keep_ckpts=1),
], ids=['mmpose scope', 'mmengine scope'])
def test_a_users_mmengine_checkpoint_hook_becomes_crash_safe_with_its_arguments(checkpoint):
    hooks = _hooks(dict(default_hooks=dict(checkpoint=checkpoint)))
    assert hooks['checkpoint'] == dict(type='pose_plugins.CrashSafeCheckpointHook', interval=2, max_keep_ckpts=1)
    assert hooks['rng_state'] == dict(type='pose_plugins.RNGStateHook')


def test_a_config_without_checkpoint_hook_gets_mmengines_default_crash_safe():
    hooks = _hooks({})
    assert hooks['checkpoint'] == dict(type='pose_plugins.CrashSafeCheckpointHook', interval=1)


@pytest.mark.parametrize('hooks, expected', [
    (dict(checkpoint=None), dict(checkpoint=None, rng_state=dict(type='pose_plugins.RNGStateHook'))),
    (dict(checkpoint=dict(type='MyCheckpointHook'), rng_state=None), dict(checkpoint=dict(type='MyCheckpointHook'))),
], ids=['saving switched off', 'own hook, rng hook switched off'])
def test_what_a_user_switched_off_or_wrote_is_left_alone(hooks, expected):
    assert _hooks(dict(default_hooks=hooks)) == expected


def test_rng_hook_listed_in_custom_hooks_is_not_added_twice():
    cfg = dict(default_hooks=dict(checkpoint=dict(type='CheckpointHook')),
               custom_hooks=[dict(type='pose_plugins.RNGStateHook')])
    assert 'rng_state' not in _hooks(cfg)


def test_demo_config_through_train_cli(tmp_path):
    args = parse_train_args([str(DEMO_CONFIG), '--work-dir', str(tmp_path), '--deterministic'])
    cfg = prepare_train_config(args)
    assert cfg.default_hooks.checkpoint.type == 'pose_plugins.CrashSafeCheckpointHook'
    assert cfg.default_hooks.rng_state.type == 'pose_plugins.RNGStateHook'
    assert cfg.randomness == dict(seed=0, deterministic=True)


def test_deterministic_keeps_the_configs_seed_and_sets_one_when_missing(tmp_path):
    args = parse_train_args([str(DEMO_CONFIG), '--work-dir', str(tmp_path), '--deterministic',
                             '--cfg-options', 'randomness.seed=7'])
    assert prepare_train_config(args).randomness == dict(seed=7, deterministic=True)
    args = parse_train_args([str(DEMO_CONFIG), '--work-dir', str(tmp_path), '--deterministic',
                             '--cfg-options', 'randomness.seed=None'])
    assert prepare_train_config(args).randomness == dict(seed=0, deterministic=True)
    args = parse_train_args([str(DEMO_CONFIG), '--work-dir', str(tmp_path)])
    assert 'deterministic' not in prepare_train_config(args).randomness
