"""load_config / overrides / config.json: typed parsing, helpful errors, a workdir never overwritten."""

import json
import textwrap

import ml_collections
import pytest

from geomrep.train import ConfigError, apply_overrides, check_workdir_config, config_to_json, load_config

CONFIG_FILE = textwrap.dedent(
    """
    import ml_collections

    def get_config(arg="default"):
        config = ml_collections.ConfigDict()
        config.variant = arg
        config.dim = 10
        config.batch_size = 512
        config.lr = 0.3
        config.sym = False
        config.name = "mammals"
        config.shape = (4, 5)
        config.layers = [8, 8]
        config.extra = None
        config.optim = ml_collections.ConfigDict({"lr": 0.1, "burnin": 10, "c": 1.0})
        if arg == "smoke":
            config.dim = 2
        elif arg not in ("default",):
            raise ValueError(f"unknown variant {arg!r}; use default or smoke")
        return config
    """
)


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "default.py"
    path.write_text(CONFIG_FILE)
    return str(path)


def test_spec_with_and_without_arg(config_file):
    assert load_config(config_file).dim == 10
    smoke = load_config(f"{config_file}:smoke")
    assert smoke.dim == 2 and smoke.variant == "smoke"
    with pytest.raises(ConfigError, match="unknown variant 'smok'"):
        load_config(f"{config_file}:smok")


def test_overrides_are_parsed_to_the_field_type(config_file):
    config = load_config(
        config_file,
        [
            "dim=5",
            "batch_size=1e3",
            "lr=1e-3",
            "optim.c=2",
            "optim.burnin=0",
            "sym=yes",
            "name=closure=full",
            "shape=(2, 3)",
            "layers=[16]",
            "extra=[1, 2]",
        ],
    )
    assert config.dim == 5 and type(config.dim) is int
    assert config.batch_size == 1000 and type(config.batch_size) is int
    assert config.lr == 1e-3 and config.optim.c == 2.0 and type(config.optim.c) is float
    assert config.optim.burnin == 0 and config.sym is True and config.name == "closure=full"
    assert tuple(config.shape) == (2, 3) and list(config.layers) == [16]
    assert config.extra == [1, 2]
    for text, expected in [("true", True), ("0", False), ("No", False), ("1", True)]:
        assert apply_overrides(config, [f"sym={text}"]).sym is expected
    assert load_config(config_file, ["extra=words here"]).extra == "words here"
    assert load_config(config_file, ["extra=0.5"]).extra == 0.5
    assert load_config(config_file, ["extra=None"]).extra is None


def test_unknown_key_lists_valid_keys_and_suggests(config_file):
    with pytest.raises(ConfigError) as err:
        load_config(config_file, ["dimm=5"])
    message = str(err.value)
    assert message.startswith(
        "unknown config key 'dimm'; valid keys: "
        "batch_size, dim, extra, layers, lr, name, optim, shape, sym, variant"
    )
    assert "did you mean 'dim'?" in message
    message = r"unknown config key 'optim.burnim'; valid keys: optim.burnin, optim.c"
    with pytest.raises(ConfigError, match=message):
        load_config(config_file, ["optim.burnim=3"])
    with pytest.raises(ConfigError, match="did you mean 'optim.burnin'"):
        load_config(config_file, ["optim.burnim=3"])
    with pytest.raises(ConfigError, match="unknown config key 'nope.x'"):
        load_config(config_file, ["nope.x=3"])


def test_bad_values_name_key_value_and_type(config_file):
    cases = [
        ("dim=five", "bad value 'five' for config key 'dim': expected int"),
        ("dim=2.5", "bad value '2.5' for config key 'dim': expected int"),
        ("lr=fast", "bad value 'fast' for config key 'lr': expected float"),
        ("sym=maybe", "bad value 'maybe' for config key 'sym': expected bool"),
        ("shape=7", "bad value '7' for config key 'shape': expected tuple"),
        ("optim=3", "config key 'optim' is a group"),
        ("lr.x=3", "config key 'lr' is a float, not a group"),
        ("dim", "not of the form key=value"),
    ]
    for override, message in cases:
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
            load_config(config_file, [override])
    assert issubclass(ConfigError, ValueError)


def test_missing_or_broken_files(tmp_path):
    with pytest.raises(ConfigError, match=r"config file .*nothere.py not found"):
        load_config(str(tmp_path / "nothere.py:smoke"))
    (tmp_path / "empty.py").write_text("x = 1\n")
    with pytest.raises(ConfigError, match=r"empty.py defines no get_config"):
        load_config(str(tmp_path / "empty.py"))
    (tmp_path / "broken.py").write_text("def get_config(:\n")
    with pytest.raises(ConfigError, match=r"broken.py:1: syntax error"):
        load_config(str(tmp_path / "broken.py"))
    (tmp_path / "needs.py").write_text("def get_config(arg):\n    return {'a': 1}\n")
    with pytest.raises(ConfigError, match=r"needs an argument"):
        load_config(str(tmp_path / "needs.py"))
    assert load_config(str(tmp_path / "needs.py") + ":x").a == 1  # a dict becomes a ConfigDict
    (tmp_path / "noarg.py").write_text("def get_config():\n    return {'a': 1}\n")
    with pytest.raises(ConfigError, match=r"takes no argument, got 'x'"):
        load_config(str(tmp_path / "noarg.py") + ":x")


def test_config_to_json_is_sorted_and_parseable():
    config = ml_collections.ConfigDict({"b": (1, 2), "a": {"z": None, "y": 1.5}})
    text = config_to_json(config)
    assert json.loads(text) == {"a": {"y": 1.5, "z": None}, "b": [1, 2]}
    assert text.index('"a"') < text.index('"b"')


def test_workdir_config_written_once_and_mismatch_is_refused(tmp_path, config_file):
    workdir = tmp_path / "run"
    config = load_config(config_file)
    path = check_workdir_config(workdir, config)
    original = path.read_text()
    assert json.loads(original)["dim"] == 10
    assert check_workdir_config(workdir, load_config(config_file)) == path  # same flags: resume is fine
    changed = load_config(config_file, ["dim=5", "optim.lr=0.2"])
    with pytest.raises(ConfigError) as err:
        check_workdir_config(workdir, changed)
    message = str(err.value)
    assert f"workdir {workdir} holds a run with a different config" in message
    assert "dim 10 != 5" in message and "optim.lr 0.1 != 0.2" in message
    assert "use a new --workdir or the same flags" in message
    assert path.read_text() == original
    assert sorted(p.name for p in workdir.iterdir()) == ["config.json"]  # no temporary files left
