"""cpmkit.profiles: picking a profile, overrides, and loud failures."""

import json

import pytest

from cpmkit.profiles import PROFILES, Config, UnknownSettingError, default_profile, resolve

TABLE = {
    "ci": {"num_epochs": 1, "lr": 1e-3, "hidden": [8, 8], "pretrained": None, "use_bn": False},
    "teach": {
        "num_epochs": 20,
        "lr": 1e-3,
        "hidden": [64, 64],
        "pretrained": "masking",
        "use_bn": True,
    },
    "paper": {
        "num_epochs": 100,
        "lr": 1e-3,
        "hidden": [300, 300],
        "pretrained": "masking",
        "use_bn": True,
    },
}


def test_profiles_are_the_three():
    assert PROFILES == ("ci", "teach", "paper")


def test_none_takes_env_then_teach(monkeypatch):
    monkeypatch.delenv("CPMKIT_PROFILE", raising=False)
    assert resolve(None, TABLE).profile == "teach"
    assert resolve(None, TABLE).num_epochs == 20
    assert default_profile() == "teach"
    monkeypatch.setenv("CPMKIT_PROFILE", "ci")
    config = resolve(None, TABLE)
    assert config.profile == "ci" and config.num_epochs == 1
    # an explicit profile wins over the environment
    assert resolve("paper", TABLE).num_epochs == 100


def test_bad_env_profile_is_named(monkeypatch):
    monkeypatch.setenv("CPMKIT_PROFILE", "huge")
    with pytest.raises(ValueError, match="huge.*CPMKIT_PROFILE"):
        resolve(None, TABLE)


def test_unknown_profile_lists_the_three():
    with pytest.raises(ValueError) as err:
        resolve("fast", TABLE)
    assert all(p in str(err.value) for p in PROFILES)


def test_overrides_apply_and_none_means_unset():
    config = resolve("ci", TABLE, num_epochs=3, lr=None, pretrained="context")
    assert config.num_epochs == 3 and config["num_epochs"] == 3
    assert config.lr == 1e-3
    assert config.pretrained == "context"  # str accepted where ci has None
    assert config.overridden == {"num_epochs", "pretrained"}
    text = repr(config)
    assert len(text.splitlines()) == 1 + len(TABLE["ci"])
    marked = [line for line in text.splitlines() if "overridden" in line]
    assert len(marked) == 2 and any("num_epochs" in line for line in marked)


def test_int_for_float_and_tuple_for_list():
    config = resolve("teach", TABLE, lr=1, hidden=(32, 32))
    assert config.lr == 1.0 and isinstance(config.lr, float)
    assert config.hidden == [32, 32]


def test_unknown_key_names_key_and_valid_keys():
    with pytest.raises(UnknownSettingError) as err:
        resolve("ci", TABLE, num_epoch=3)
    message = str(err.value)
    assert "num_epoch" in message and "num_epochs" in message and "use_bn" in message
    assert isinstance(err.value, KeyError) and isinstance(err.value, TypeError)


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("num_epochs", 2.5, "int"),
        ("num_epochs", True, "int"),
        ("lr", "fast", "float"),
        ("use_bn", 1, "bool"),
        ("hidden", 64, "list"),
        ("pretrained", 3, "str"),
    ],
)
def test_wrong_type_names_key_expected_and_got(key, value, expected):
    with pytest.raises(TypeError) as err:
        resolve("teach", TABLE, **{key: value})
    message = str(err.value)
    assert key in message and expected in message and type(value).__name__ in message


def test_config_mapping_dict_and_readonly():
    config = resolve("ci", TABLE, num_epochs=2)
    assert isinstance(config, Config)
    assert dict(config) == {**TABLE["ci"], "num_epochs": 2}
    data = config.to_dict()
    assert data["profile"] == "ci"
    assert json.loads(json.dumps(data)) == data
    with pytest.raises(AttributeError):
        config.num_epochs = 5
    with pytest.raises(AttributeError, match="num_epochs"):
        config.num_epoch  # noqa: B018
    # printing is deterministic
    assert repr(config) == repr(resolve("ci", TABLE, num_epochs=2))


def test_replace_checks_like_resolve():
    config = resolve("ci", TABLE).replace(num_epochs=4)
    assert config.num_epochs == 4 and "num_epochs" in config.overridden
    assert "num_epochs" not in config.replace(num_epochs=1).overridden
    with pytest.raises(TypeError):
        config.replace(num_epochs="4")


def test_table_must_list_same_settings_per_profile():
    broken = {**TABLE, "paper": {"num_epochs": 100}}
    with pytest.raises(ValueError, match="paper"):
        resolve("ci", broken)
    with pytest.raises(ValueError, match="profile"):
        resolve("ci", {p: {"profile": 1} for p in PROFILES})


def test_to_dataclass_picks_known_fields():
    from dataclasses import dataclass

    @dataclass
    class Small:
        num_epochs: int
        lr: float = 0.1

    small = resolve("ci", TABLE).to_dataclass(Small)
    assert small == Small(num_epochs=1, lr=1e-3)
