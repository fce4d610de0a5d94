"""`env.example` and `docs/configuration.md` are generated from `Settings`: a setting
added, removed or redescribed without regenerating them fails here."""

from __future__ import annotations

from pathlib import Path

from ordergate.config.environment import SEED_002, field_names
from ordergate.config.reference import env_example, generated
from ordergate.config.settings import Settings

ROOT = Path(__file__).parents[3]


def test_generated_configuration_files_are_current():
    for path, text in generated(ROOT).items():
        assert path.read_text() == text, (
            f"{path.relative_to(ROOT)} is stale; regenerate it with "
            "`.venv/bin/ordergate config reference --write .`"
        )


def test_env_example_names_every_setting_and_every_seed_002_variable():
    text = env_example()
    for name, field in Settings.model_fields.items():
        assert f"# {field_names(name, field)[0]}=" in text
        assert field.description, f"setting {name} has no description"
    for seed_name in SEED_002:
        assert seed_name in text
