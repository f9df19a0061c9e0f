"""Trainer configs parsed by TRL's own TrlParser: YAML section then TRL-named flags, types converted, unknown keys
refused, every TRL field settable."""

import dataclasses

import pytest

from hitl.cli.main import main
from hitl.errors import InvalidInput
from hitl.trainer_config import yaml_section
from policy.models import native_bf16
from policy.train_config import CONFIGS, algorithm_of, loss_terms, make_config
from reward.config import RewardTrainConfig
from reward.config import make_config as make_reward_config


@pytest.mark.parametrize("algorithm", sorted(CONFIGS))
def test_yaml_strings_and_flags_reach_the_trainer_as_their_types(tmp_path, algorithm):
    path = tmp_path / "c.yaml"
    path.write_text("policy:\n  algorithm: dpo\n  learning_rate: 1e-4\n  save_strategy: no\nreward:\n  lr: 1\n")
    config = make_config(algorithm, config_path=str(path), args=["--warmup_steps", "3", "--lora-r", "8"])
    assert isinstance(config.learning_rate, float) and config.learning_rate == 1e-4
    assert config.save_strategy == "no" and config.warmup_steps == 3 and config.lora_r == 8
    assert config.bf16 is native_bf16() and config.use_cpu is True and config.report_to == []
    assert algorithm_of(str(path)) == "dpo" and algorithm_of(str(path), "kto") == "kto"


def test_a_yaml_list_of_dpo_losses_reaches_the_trainer_and_the_lineage_names_it(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("policy:\n  loss_type: [sigmoid, sft]\n  loss_weights: [1.0, 0.25]\n")
    config = make_config("dpo", config_path=str(path))
    assert config.loss_type == ["sigmoid", "sft"] and config.loss_weights == [1.0, 0.25]
    assert loss_terms(config) == "sigmoid + 0.25*sft"
    assert loss_terms(make_config("dpo")) == "sigmoid"
    assert loss_terms(make_config("kto")) == "kto"


def test_unknown_options_are_refused_with_where_they_came_from(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("policy:\n  lerning_rate: 1e-4\n")
    with pytest.raises(InvalidInput, match=r"unknown dpo option\(s\) in .*c.yaml: lerning_rate"):
        make_config("dpo", config_path=str(path))
    with pytest.raises(InvalidInput, match=r"unknown grpo flag\(s\): --lerning_rate 1"):
        make_config("grpo", args=["--lerning_rate", "1"])
    with pytest.raises(InvalidInput, match="unknown algorithm 'ppo'"):
        make_config("ppo")
    path.write_text("policy: [1, 2]\n")
    with pytest.raises(InvalidInput, match="'policy' section must be a mapping"):
        yaml_section(str(path), "policy")


@pytest.mark.parametrize("cls", [RewardTrainConfig, *CONFIGS.values()], ids=lambda c: c.__name__)
def test_every_field_of_the_trl_config_is_a_flag(cls):
    from hitl.trainer_config import _parser

    dests = {a.dest for a in _parser(cls)._actions}
    missing = [f.name for f in dataclasses.fields(cls) if f.init and f.name not in dests]
    assert missing == []


def test_flags_override_yaml_which_overrides_the_callers_defaults(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("reward:\n  num_train_epochs: 3\n  max_length: 64\n")
    config = make_reward_config(
        {"max_length": 96}, config_path=str(path), args=["--num-train-epochs", "1"], defaults={"seed": 7}
    )
    assert (config.num_train_epochs, config.max_length, config.seed) == (1.0, 96, 7)


def test_trainer_help_lists_trl_options_and_other_commands_refuse_unknown_flags(capsys):
    assert main(["train-policy", "--campaign", "x", "--algorithm", "kto", "--trainer-help"]) == 0
    printed = capsys.readouterr().out
    assert "--desirable_weight" in printed and "--lora_r" in printed  # KTO's own option and hitl's LoRA
    with pytest.raises(SystemExit) as exited:
        main(["users", "list", "--learning_rate", "1"])
    assert exited.value.code == 2 and "unrecognized arguments: --learning_rate 1" in capsys.readouterr().err


def test_report_to_names_trackers_and_needs_them_installed(tmp_path, monkeypatch):
    import transformers.integrations

    out = ["--output_dir", str(tmp_path)]
    assert make_reward_config(args=[*out, "--report_to", "none"]).report_to in ("none", [])
    monkeypatch.setattr(transformers.integrations, "get_available_reporting_integrations", lambda: [])
    with pytest.raises(
        InvalidInput, match=r"report_to tensorboard: not installed here; pip install 'hitl-rlhf\[trackers\]'"
    ):
        make_reward_config(args=[*out, "--report_to", "tensorboard"])
    with pytest.raises(InvalidInput, match="not a tracker"):
        make_reward_config(args=[*out, "--report_to", "printer"])
    monkeypatch.setattr(
        transformers.integrations, "get_available_reporting_integrations", lambda: ["trackio", "wandb"]
    )
    config = make_config("dpo", args=[*out, "--report_to", "trackio"])
    assert config.report_to in ("trackio", ["trackio"])  # handed to the Trainer as TRL's parser gives it
